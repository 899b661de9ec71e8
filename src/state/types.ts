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
