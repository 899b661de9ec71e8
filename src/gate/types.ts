import type { UpstreamConfig } from '../config/types.ts';
import type { ClientIdentity, Decision } from '../decision/decision.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import type { Digest, Reference } from '../oci/reference.ts';
import type { ScanState } from '../scan/types.ts';
import type { SignatureFinding } from '../verify/types.ts';
import type { FindingJudgement } from '../policy/evaluate.ts';

/** Everything the gate may look at for one manifest pull. Later checks read it; the proxy fills it. */
export interface PullContext {
  readonly canonicalName: string;
  readonly repository: string;
  readonly upstream: UpstreamConfig;
  readonly requested: Reference;
  readonly ns: string | undefined;
  readonly manifest: {
    readonly bytes: Buffer;
    readonly digest: Digest;
    readonly mediaType: string;
    /** Child manifest digests when this is an index. */
    readonly children: readonly Digest[];
    /** Config and layer digests when this is an image manifest. */
    readonly blobs: readonly Digest[];
    /** The manifest as parsed (descriptors, media types): what the content rules read. */
    readonly parsed: ParsedManifest;
    /** Why the manifest's format is refused (schema 1, an unknown type); undefined when supported. */
    readonly unsupported: string | undefined;
  };
  /** The allowed index this manifest was listed in, when known. */
  readonly parentIndex: Digest | undefined;
  readonly client: ClientIdentity | undefined;
  /**
   * The manifest was recalled from the fail-static copy while its upstream is unreachable
   * (docs/blob-cache.md "Fail static"): only a verdict already held can allow it; break glass does not.
   */
  readonly failStatic?: true;
}

/** The scan state behind a decision, for explain: what is on record and how the rule judges it. */
export interface ScanExplanation {
  /** Whether the rule requires a passing scan (when not, the state is informative only). */
  readonly required: boolean;
  readonly state: ScanState;
  readonly record?: {
    readonly scanner: string;
    readonly finishedAt: number;
    readonly source: 'report' | 'attestation';
    readonly counts: Readonly<Record<string, number>>;
  };
}

/** A decision with what led to it (GET /admin/v1/explain). */
export interface Explanation {
  readonly decision: Decision;
  /** Every signature looked at, and why each did or did not count. Empty when none was checked. */
  readonly findings: readonly SignatureFinding[];
  /** Per finding (same order): the signers the rule counts it for, and the rule's reasons it counts for no more. */
  readonly judgements: readonly FindingJudgement[];
  /** Undefined when no scan applies (an index, a signature artifact, a source denial). */
  readonly scan: ScanExplanation | undefined;
  /** The gate's own denial, when a break-glass entry overrode it. */
  readonly overridden?: Decision;
}

/**
 * How the blob gate lets a blob through: streamed (an allowed image names it), only after it is
 * read whole and parses as `format` (reachable only through a signature artifact), or not at all.
 */
export type BlobAccess =
  StreamAccess | { readonly kind: 'check'; readonly format: string; readonly size: number } | { readonly kind: 'deny' };

/**
 * A blob that may stream, and what allows it: a cached verdict of a manifest naming it, a
 * break-glass entry, or nothing at all because the blob gate is off. Fail static serves from the
 * cache only what a verdict allows (docs/blob-cache.md "Fail static").
 */
export interface StreamAccess {
  readonly kind: 'stream';
  readonly from: 'verdict' | 'break-glass' | 'ungated';
}

export interface Gate {
  decide(context: PullContext): Promise<Decision>;
  /** The blob gate: may this blob of this repository be served, and how? */
  blobAccess(canonicalName: string, digest: Digest): Promise<BlobAccess>;
  /**
   * The decision `decide` would make now, with its findings, computed afresh and without side
   * effects: no verdict read or cached, no scan queued, no blob or child recorded as allowed.
   */
  explain(context: PullContext): Promise<Explanation>;
}
