import type { Digest } from '../oci/reference.ts';
import type { ScanRecord } from '../scan/types.ts';

/** A digest waiting for a scanner (docs/design.md §3; issue: the scan queue). */
export interface ScanRequest {
  readonly digest: Digest;
  readonly canonicalName: string;
  readonly upstream: string;
  /** Epoch ms when it was first queued. */
  readonly requestedAt: number;
}

/**
 * Scan records and the scan queue. Records are keyed by digest (a scan is of content, whatever
 * the repository). Redis: records in a hash, the queue on the stream `<prefix>scan-requests` with a
 * consumer group, and a "scan posted" notice on pub/sub so every replica drops its verdicts for
 * that digest.
 */
export interface ScanStore {
  get(digest: Digest): Promise<ScanRecord | undefined>;
  /** Stores a record (the newest finishedAt wins), clears the pending state, and notifies every replica. */
  put(record: ScanRecord): Promise<void>;
  /** Queues a digest once; a digest already pending is not queued again. Returns true when newly queued. */
  request(request: ScanRequest): Promise<boolean>;
  isPending(digest: Digest): Promise<boolean>;
  /** Pending requests, oldest first. */
  pending(limit: number): Promise<readonly ScanRequest[]>;
  /** Called with the digest whenever a scan is posted on any replica. Returns an unsubscribe function. */
  onPosted(listener: (digest: Digest) => void): () => void;
  close(): Promise<void>;
}
