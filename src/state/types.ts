import type { Decision } from '../gate/types.ts';
import type { Digest } from '../oci/reference.ts';

/** Cache key parts: never a digest alone (DESIGN §4). */
export interface VerdictKey {
  readonly canonicalName: string;
  readonly digest: Digest;
  readonly policyHash: string;
  readonly trustVersion: number;
}

export interface VerdictCacheOptions {
  /** How long an allow is kept (also capped by the decision's notAfter). */
  readonly allowTtlMs: number;
  /** How long a deny is kept. Short: a fix (a new signature, a scan) should show quickly. */
  readonly denyTtlMs: number;
  /** Entries in the in-process LRU. */
  readonly memoryEntries: number;
}

/** Verdicts by key. Memory first, then Redis when configured; `now` comes from the caller's clock. */
export interface VerdictCache {
  get(key: VerdictKey, now: number): Promise<Decision | undefined>;
  put(key: VerdictKey, decision: Decision, now: number): Promise<void>;
  /** Drops every verdict (on a trust or policy change), in this process. */
  clearLocal(): void;
  /**
   * Drops every verdict for one digest (a scan arrived): in this process, and in Redis when
   * `shared` is true (the replica that stored the scan does it once; the others only locally).
   */
  forgetDigest(digest: Digest, shared: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * What allowed manifests vouch for, shared across replicas so a manifest served by one replica and
 * its blobs or children fetched through another work: the blobs an allowed image references, and
 * the children an allowed index lists (mode `index`). `generation` is `<policy hash>:<trust
 * version>`: a policy or trust change makes every older record invisible at once.
 */
export interface AllowSets {
  recordBlobs(generation: string, canonicalName: string, blobs: readonly Digest[], ttlMs: number): Promise<void>;
  isBlobAllowed(generation: string, canonicalName: string, blob: Digest): Promise<boolean>;
  recordChildren(generation: string, canonicalName: string, index: Digest, children: readonly Digest[], ttlMs: number): Promise<void>;
  /** The allowed index that lists this child, if any. */
  parentOf(generation: string, canonicalName: string, child: Digest): Promise<Digest | undefined>;
  close(): Promise<void>;
}

/** A digest waiting for a scanner (DESIGN §3; issue: the scan queue). */
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
  get(digest: Digest): Promise<import('../scan/types.ts').ScanRecord | undefined>;
  /** Stores a record (the newest finishedAt wins), clears the pending state, and notifies every replica. */
  put(record: import('../scan/types.ts').ScanRecord): Promise<void>;
  /** Queues a digest once; a digest already pending is not queued again. Returns true when newly queued. */
  request(request: ScanRequest): Promise<boolean>;
  isPending(digest: Digest): Promise<boolean>;
  /** Pending requests, oldest first. */
  pending(limit: number): Promise<readonly ScanRequest[]>;
  /** Called with the digest whenever a scan is posted on any replica. Returns an unsubscribe function. */
  onPosted(listener: (digest: Digest) => void): () => void;
  close(): Promise<void>;
}
