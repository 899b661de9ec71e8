import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/reference.ts';
import type { Allowance, AllowSets, Grant, Liveness } from './types.ts';

export interface MemoryAllowSetsOptions {
  /** Digests held (each with its grants); the least recently used go first. Default 50 000. */
  readonly maxEntries?: number;
  /** Clock for expiry, in ms. Default Date.now. */
  readonly now?: () => number;
}

/**
 * Grants kept per digest: one per source. Past this, a checked grant (from a signature artifact,
 * which anyone who can push can make) goes first, the soonest to expire; only then a streaming one,
 * so a flood of fake artifacts naming a layer cannot push out the verdict that allows it.
 */
export const MAX_GRANTS_PER_DIGEST = 16;

export function checkGrant(grant: Grant): void {
  if (typeof grant.source !== 'string' || grant.source === '') throw new TypeError('allow sets: a grant needs a source');
  if (!Number.isFinite(grant.expiresAt)) throw new TypeError(`allow sets: expiresAt must be a finite time, got ${grant.expiresAt}`);
}

/**
 * The allowance to use among `grants`: unexpired at `now`, with a live source, and streaming (no
 * format) before checked. Undefined when none holds.
 */
export async function pickAllowance(grants: Iterable<Allowance>, now: number, live: Liveness): Promise<Allowance | undefined> {
  let checked: Allowance | undefined;
  for (const grant of grants) {
    if (now >= grant.expiresAt || (checked !== undefined && grant.format !== undefined)) continue;
    if (!(await live(grant))) continue;
    if (grant.format === undefined) return grant;
    checked = grant;
  }
  return checked;
}

/** Adds or extends one source's grant, keeping at most MAX_GRANTS_PER_DIGEST (the longest lived). */
export function mergeGrant(held: ReadonlyMap<string, Allowance> | undefined, next: Allowance, now: number): Map<string, Allowance> {
  const merged = new Map<string, Allowance>();
  for (const [source, grant] of held ?? []) if (grant.expiresAt > now) merged.set(source, grant);
  const before = merged.get(next.source);
  if (before === undefined || before.expiresAt < next.expiresAt) merged.set(next.source, next);
  if (merged.size > MAX_GRANTS_PER_DIGEST) {
    const byExpiry = [...merged.values()].sort((a, b) => a.expiresAt - b.expiresAt);
    merged.delete((byExpiry.find((grant) => grant.format !== undefined) ?? byExpiry[0]!).source);
  }
  return merged;
}

/**
 * Allowances of one process, each digest with its grants by source. Also the Redis adapter's
 * local copy of what this replica granted itself.
 */
export function createMemoryAllowSets(options: MemoryAllowSetsOptions = {}): AllowSets & { clear(): void } {
  const now = options.now ?? Date.now;
  const records = new LRUCache<string, Map<string, Allowance>>({ max: options.maxEntries ?? 50_000 });
  const id = (kind: 'blob' | 'child', generation: string, name: string, digest: Digest): string =>
    JSON.stringify([kind, generation, name, digest]);
  const hold = (key: string, allowance: Allowance): void => void records.set(key, mergeGrant(records.get(key), allowance, now()));
  const find = (key: string, live: Liveness): Promise<Allowance | undefined> =>
    pickAllowance(records.get(key)?.values() ?? [], now(), live);

  return {
    async grantBlobs(generation, canonicalName, blobs, grant) {
      checkGrant(grant);
      for (const blob of blobs) {
        const extra = blob.format === undefined ? {} : { format: blob.format, ...(blob.size === undefined ? {} : { size: blob.size }) };
        hold(id('blob', generation, canonicalName, blob.digest), { source: grant.source, expiresAt: grant.expiresAt, ...extra });
      }
    },
    blobAllowance: (generation, canonicalName, blob, live) => find(id('blob', generation, canonicalName, blob), live),
    async grantChildren(generation, canonicalName, index, children, grant) {
      checkGrant(grant);
      for (const child of children)
        hold(id('child', generation, canonicalName, child), { source: grant.source, expiresAt: grant.expiresAt, index });
    },
    childAllowance: (generation, canonicalName, child, live) => find(id('child', generation, canonicalName, child), live),
    clear: () => records.clear(),
    async close() {
      records.clear();
    },
  };
}
