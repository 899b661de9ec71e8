import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/reference.ts';

/**
 * How many scans this replica has heard of per digest, so a verification that overlapped a new
 * scan does not cache its now-stale verdict. Bounded; a forgotten digest reads as 0, which only
 * ever errs towards not caching (an epoch can go 1 → 0 and mismatch).
 */
export class ScanEpochs {
  readonly #epochs = new LRUCache<Digest, number>({ max: 100_000 });

  of(digest: Digest): number {
    return this.#epochs.get(digest) ?? 0;
  }

  bump(digest: Digest): void {
    this.#epochs.set(digest, this.of(digest) + 1);
  }
}
