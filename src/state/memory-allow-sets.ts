import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/reference.ts';
import type { AllowSets } from './types.ts';

export interface MemoryAllowSetsOptions {
  /** Records kept (one per blob or child); the least recently used go first. Default 50 000. */
  readonly maxEntries?: number;
  /** Clock for expiry, in ms. Default Date.now. */
  readonly now?: () => number;
}

interface Held {
  readonly value: string;
  readonly expiresAt: number;
}

export function checkTtl(ttlMs: number): void {
  if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError(`allow sets: ttlMs must be a positive number, got ${ttlMs}`);
}

/**
 * Allow sets of one process: each blob or child is its own record with its own expiry, so a
 * later, shorter record never cuts an earlier, longer one short. Also the Redis adapter's local
 * copy of what this replica recorded itself.
 */
export function createMemoryAllowSets(options: MemoryAllowSetsOptions = {}): AllowSets & { clear(): void } {
  const now = options.now ?? Date.now;
  const records = new LRUCache<string, Held>({ max: options.maxEntries ?? 50_000 });
  const id = (kind: 'blob' | 'child', generation: string, name: string, digest: Digest): string =>
    JSON.stringify([kind, generation, name, digest]);

  function hold(key: string, value: string, ttlMs: number): void {
    const expiresAt = now() + ttlMs;
    const before = records.get(key);
    records.set(key, { value, expiresAt: before === undefined ? expiresAt : Math.max(expiresAt, before.expiresAt) });
  }
  function held(key: string): string | undefined {
    const record = records.get(key);
    if (record === undefined) return undefined;
    if (now() < record.expiresAt) return record.value;
    records.delete(key);
    return undefined;
  }

  return {
    async recordBlobs(generation, canonicalName, blobs, ttlMs) {
      checkTtl(ttlMs);
      for (const blob of blobs) hold(id('blob', generation, canonicalName, blob), '', ttlMs);
    },
    async isBlobAllowed(generation, canonicalName, blob) {
      return held(id('blob', generation, canonicalName, blob)) !== undefined;
    },
    async recordChildren(generation, canonicalName, index, children, ttlMs) {
      checkTtl(ttlMs);
      for (const child of children) hold(id('child', generation, canonicalName, child), index, ttlMs);
    },
    async parentOf(generation, canonicalName, child) {
      return held(id('child', generation, canonicalName, child)) as Digest | undefined;
    },
    clear: () => records.clear(),
    async close() {
      records.clear();
    },
  };
}
