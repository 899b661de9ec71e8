import type { Decision } from '../decision/decision.ts';
import type { Digest } from '../oci/reference.ts';

/**
 * Cache key parts: never a digest alone. Built only by the gate's `decisionInput` (docs/integrity.md
 * "Verdict keys"), from which evaluation also reads, so the key covers every input a decision reads.
 */
export interface VerdictKey {
  readonly canonicalName: string;
  readonly digest: Digest;
  /** The manifest's media type as served (Content-Type): a notation signature binds it, so evaluation reads it. */
  readonly mediaType: string;
  readonly policyHash: string;
  readonly trustVersion: number;
  /** The reference a rule's identity check compares signatures with (`signedIdentity: exact`); undefined when none reads it. */
  readonly identity: string | undefined;
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
  /** `id` is `verdictId(key)` when the caller built it already (gate/decision-input.ts), so a warm pull hashes the key once. */
  get(key: VerdictKey, now: number, id?: string): Promise<Decision | undefined>;
  /** Whether the verdict with this id (`verdictId`) is still held and lets a pull through at `now`: an allowance's source. */
  allows(id: string, now: number): Promise<boolean>;
  put(key: VerdictKey, decision: Decision, now: number, id?: string): Promise<void>;
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
 * One thing an allowance lets through, and what granted it (docs/integrity.md "Allowances"). An
 * allowance lives no longer than its source: `verdict:<id>` (a cached verdict), `breakglass:<id>`
 * (an entry) or `artifact:<digest>` (a signature artifact, by content). The holder of the sources
 * decides liveness; the stores only keep grants and their expiry.
 */
export interface Allowance {
  readonly source: string;
  /** Epoch ms on the recording replica's clock; never later than the source's own end. */
  readonly expiresAt: number;
  /** For a blob reachable only through a signature artifact: its declared format and size, checked before it is served. */
  readonly format?: string;
  readonly size?: number;
  /** For a child: the index that listed it. */
  readonly index?: Digest;
}

export interface BlobGrant {
  readonly digest: Digest;
  readonly format?: string;
  readonly size?: number;
}

export interface Grant {
  readonly source: string;
  readonly expiresAt: number;
}

/** Whether an allowance's source still holds (a verdict still cached and allowing, an entry still active…). */
export type Liveness = (allowance: Allowance) => Promise<boolean>;

/**
 * What allowed manifests vouch for, shared across replicas so a manifest served by one replica and
 * its blobs or children fetched through another work: the blobs an allowed image references, and
 * the children an allowed index lists (mode `index`). `generation` is `<policy hash>:<trust
 * version>`: a policy or trust change makes every older grant invisible at once. Each digest keeps
 * one grant per source, so an image whose source ends does not take a shared layer from another.
 */
export interface AllowSets {
  grantBlobs(generation: string, canonicalName: string, blobs: readonly BlobGrant[], grant: Grant): Promise<void>;
  /** A live allowance for this blob; one that streams (no format) is preferred over one that must be checked. */
  blobAllowance(generation: string, canonicalName: string, blob: Digest, live: Liveness): Promise<Allowance | undefined>;
  grantChildren(generation: string, canonicalName: string, index: Digest, children: readonly Digest[], grant: Grant): Promise<void>;
  /** A live allowance for this child, naming the index that listed it. */
  childAllowance(generation: string, canonicalName: string, child: Digest, live: Liveness): Promise<Allowance | undefined>;
  close(): Promise<void>;
}
