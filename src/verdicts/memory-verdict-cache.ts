import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/reference.ts';
import type { CachedVerdict } from './verdict-entry.ts';

/**
 * The in-process layer: an LRU bounded by entry count. Expiry is checked by the caller against
 * its own clock (`expiresAt`), so lru-cache's timers are not used. Each entry remembers the digest
 * it was put for, so `forgetDigest` can find them without a second index to keep in step with
 * evictions: it walks the LRU, which is bounded and walked only when a scan is posted.
 */
export interface MemoryVerdictLayer {
  get(id: string): CachedVerdict | undefined;
  set(id: string, entry: CachedVerdict, digest: Digest): void;
  delete(id: string): void;
  /** Drops every entry put for `digest`; returns how many. */
  forgetDigest(digest: Digest): number;
  clear(): void;
  readonly size: number;
}

interface Held {
  readonly entry: CachedVerdict;
  readonly digest: Digest;
}

export function createMemoryVerdictLayer(maxEntries: number): MemoryVerdictLayer {
  const lru = new LRUCache<string, Held>({ max: maxEntries });
  return {
    get: (id) => lru.get(id)?.entry,
    set: (id, entry, digest) => void lru.set(id, { entry, digest }),
    delete: (id) => void lru.delete(id),
    forgetDigest(digest) {
      const ids: string[] = [];
      for (const [id, held] of lru.entries()) if (held.digest === digest) ids.push(id);
      for (const id of ids) lru.delete(id);
      return ids.length;
    },
    clear: () => lru.clear(),
    get size() {
      return lru.size;
    },
  };
}
