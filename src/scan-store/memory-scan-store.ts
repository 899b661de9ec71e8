import { LRUCache } from 'lru-cache';
import { noopLogger } from '../log/logger.ts';
import type { Digest } from '../oci/reference.ts';
import type { ScanRecord } from '../scan/types.ts';
import { checkRecord, checkRequest } from './codec.ts';
import { createListeners } from '../log/listeners.ts';
import { checkLimit, scanStoreClosed, validateScanStoreOptions, type ScanStoreOptions } from './options.ts';
import type { ScanRequest, ScanStore } from './types.ts';

export interface MemoryScanStoreOptions extends ScanStoreOptions {
  /** Clock for pending expiry, in ms. Default Date.now. */
  readonly now?: () => number;
  /** Records kept; the least recently used go first (and read as unscanned: denied). Default 100 000. */
  readonly maxRecords?: number;
}

interface Queued {
  readonly seq: number;
  readonly request: ScanRequest;
}

/**
 * The scan store of one process, with the Redis store's semantics: a digest is queued once while
 * its pending marker lives (requeueAfterMs on the `now` clock); the queue is an array in request
 * order, pruned of entries whose marker is gone once it reaches maxQueueLength (then the oldest
 * are dropped with their markers). No consumers: scanners learn of requests through `pending`.
 */
export function createMemoryScanStore(options: MemoryScanStoreOptions = {}): ScanStore {
  const { requeueAfterMs, maxQueueLength } = validateScanStoreOptions(options);
  const now = options.now ?? Date.now;
  const records = new LRUCache<Digest, ScanRecord>({ max: options.maxRecords ?? 100_000 });
  const markers = new Map<Digest, { readonly seq: number; readonly expiresAt: number }>();
  const listeners = createListeners<Digest>(options.logger ?? noopLogger, 'scan posted', (digest) => ({ digest }));
  let queue: Queued[] = [];
  let seq = 0;
  let closed = false;

  function liveMarker(digest: Digest): { seq: number } | undefined {
    const marker = markers.get(digest);
    if (marker === undefined || now() < marker.expiresAt) return marker;
    markers.delete(digest);
    return undefined;
  }
  const isLive = (entry: Queued): boolean => liveMarker(entry.request.digest)?.seq === entry.seq;

  function makeRoom(): void {
    queue = queue.filter(isLive);
    for (const [digest] of markers) liveMarker(digest); // drops expired markers
    while (queue.length >= maxQueueLength) {
      const dropped = queue.shift();
      if (dropped !== undefined) markers.delete(dropped.request.digest);
    }
  }

  return {
    async get(digest) {
      return records.get(digest);
    },
    async put(record) {
      checkRecord(record);
      if (closed) throw scanStoreClosed('put');
      markers.delete(record.digest);
      const held = records.get(record.digest);
      if (held !== undefined && held.finishedAt > record.finishedAt) return;
      records.set(record.digest, record);
      listeners.emit(record.digest);
    },
    async request(request) {
      checkRequest(request);
      if (liveMarker(request.digest) !== undefined) return false;
      if (queue.length >= maxQueueLength) makeRoom();
      seq += 1;
      queue.push({ seq, request: { ...request } });
      markers.set(request.digest, { seq, expiresAt: now() + requeueAfterMs });
      return true;
    },
    async isPending(digest) {
      return liveMarker(digest) !== undefined;
    },
    async pending(limit) {
      checkLimit(limit);
      const out: ScanRequest[] = [];
      for (const entry of queue) {
        if (out.length >= limit) break;
        if (isLive(entry)) out.push(entry.request);
      }
      return out;
    },
    onPosted: (listener) => listeners.add(listener),
    async close() {
      closed = true;
      listeners.clear();
    },
  };
}
