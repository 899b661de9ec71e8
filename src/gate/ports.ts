import type { BreakGlassEntry } from '../breakglass/entries.ts';
import type { Decision, Outcome } from '../decision/decision.ts';
import type { DiscoveryLimits } from '../discovery/discover.ts';
import type { Logger } from '../log/logger.ts';
import type { Digest } from '../oci/reference.ts';
import type { Policy } from '../policy/types.ts';
import type { ScanEvaluation } from '../scan/evaluate.ts';
import type { ScanRecord } from '../scan/types.ts';
import type { ScanRequest } from '../scan-store/types.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { Allowance, BlobGrant, Grant, Liveness } from '../verdicts/types.ts';
import type { SignatureFinding } from '../verify/types.ts';
import type { DecisionInput } from './decision-input.ts';
import type { ManifestKind } from './manifest-kind.ts';
import type { PullContext } from './types.ts';

/**
 * What a decision reads (docs/architecture.md "One decision, two callers"). `/v2` and explain
 * pass the same reads, so explain sees exactly what a pull would.
 */
export interface DecisionReads {
  readonly policy: () => Policy;
  readonly trust: () => CompiledTrust;
  /** What the manifest is, by its content (gate/manifest-kind.ts). */
  readonly classify: (context: PullContext) => Promise<ManifestKind>;
  readonly clientFor: (upstream: string) => UpstreamClient;
  readonly limits: DiscoveryLimits;
  readonly scans: {
    get(digest: Digest): Promise<ScanRecord | undefined>;
    isPending(digest: Digest): Promise<boolean>;
  };
  /** The live allowance of a child through an index that listed it (mode `index`). */
  readonly childAllowance: (generation: string, canonicalName: string, child: Digest) => Promise<Allowance | undefined>;
  /** Break-glass entries active at `now`. */
  readonly breakGlass: (now: number) => readonly BreakGlassEntry[];
  /** Whether the shared state (Redis) answers; absent without Redis. */
  readonly sharedStateUp?: (() => Promise<boolean>) | undefined;
  /** How long an allowed image's blobs and children stay allowed (capped by the source's own end). */
  readonly allowTtlMs: number;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * What a decision changes. `/v2` passes the real effects (runtime wiring, tested in
 * test/gate/pull-wiring.test.ts); explain passes NO_EFFECTS, so explaining an image never caches
 * a verdict, grants a blob, queues a scan or writes the audit log.
 */
export interface DecisionEffects {
  /**
   * The verdict cache and single flight. A cached verdict holds no findings, so explain, which must
   * show them, neither reads nor stores one: that is why the cache sits with the effects.
   */
  readonly memo: {
    get(input: DecisionInput): Promise<Decision | undefined>;
    /** Computes once per key across concurrent pulls; `store` runs when the verdict was cached (no scan arrived meanwhile). */
    run(input: DecisionInput, compute: () => Promise<Decision>, store: (decision: Decision) => Promise<void>): Promise<Decision>;
  };
  /** Allowances, each under its source (docs/integrity.md "Allowances"). */
  readonly grantBlobs: (generation: string, canonicalName: string, blobs: readonly BlobGrant[], grant: Grant) => Promise<void>;
  readonly grantChildren: (
    generation: string,
    canonicalName: string,
    index: Digest,
    children: readonly Digest[],
    grant: Grant,
  ) => Promise<void>;
  /** Whether this verdict's grants are still held (evicted grants are given again on a cache hit). */
  readonly stillGranted: (
    generation: string,
    canonicalName: string,
    first: { blob?: Digest; child?: Digest },
    source: string,
  ) => Promise<boolean>;
  readonly requestScan: (request: ScanRequest) => void;
  /** A break-glass entry let a denial through: logged and audited once per entry, image and replica. */
  readonly breakGlassUsed: (context: PullContext, denied: Decision, entry: BreakGlassEntry) => Promise<void>;
  /** A real verification starts (not a cache hit), and how it ended. */
  readonly verifying: (canonicalName: string) => void;
  readonly verified: (outcome: Outcome, seconds: number) => void;
}

/** Explain's effects: nothing is read from or written to any store. */
export const NO_EFFECTS: DecisionEffects = Object.freeze({
  memo: {
    get: async () => undefined,
    run: async (_input: DecisionInput, compute: () => Promise<Decision>) => compute(),
  },
  grantBlobs: async () => {},
  grantChildren: async () => {},
  stillGranted: async () => true,
  requestScan: () => {},
  breakGlassUsed: async () => {},
  verifying: () => {},
  verified: () => {},
});

/** What led to a decision: every signature looked at, and the scan as the rule judged it. */
export interface DecisionTrace {
  findings: readonly SignatureFinding[];
  scan: { readonly evaluation: ScanEvaluation; readonly record: ScanRecord | undefined } | undefined;
  /** The decision before a break-glass entry overrode it. */
  overridden: Decision | undefined;
}

export interface Judged {
  readonly decision: Decision;
  readonly trace: DecisionTrace;
  /** The rule that judged, for explain's view of the scan; undefined for built-in decisions. */
  readonly input: DecisionInput | undefined;
}

export type { Liveness };
