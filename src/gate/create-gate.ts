import type { BreakGlassStore } from '../breakglass/entries.ts';
import type { DiscoveryLimits } from '../discovery/discover.ts';
import type { Logger } from '../log/logger.ts';
import type { Policy } from '../policy/types.ts';
import type { ScanStore } from '../scan-store/types.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { AllowSets, VerdictCache } from '../verdicts/types.ts';
import { generationOf } from './decision-input.ts';
import { explanationOf } from './explanation.ts';
import { judgePull } from './judge-pull.ts';
import { createManifestClassifier } from './manifest-kind.ts';
import { NO_EFFECTS, type DecisionEffects, type DecisionReads } from './ports.ts';
import { createLiveness, sourceKind } from './provenance.ts';
import type { BlobAccess, Gate } from './types.ts';

export interface GateDeps {
  readonly policy: () => Policy;
  readonly trust: () => CompiledTrust;
  readonly verdicts: VerdictCache;
  readonly allowSets: AllowSets;
  readonly scans: ScanStore;
  readonly breakGlass: BreakGlassStore;
  readonly clientFor: (upstream: string) => UpstreamClient;
  readonly limits: DiscoveryLimits;
  /** How long an allowed image's blobs and children stay allowed (capped by the source's own end). */
  readonly allowTtlMs: number;
  /** When false, any blob of an allowed repository is served (the blob gate is off: the integrity invariant does not hold for blobs). */
  readonly blobGate: boolean;
  /** Whether the shared state (Redis) answers; absent without Redis. */
  readonly sharedStateUp?: (() => Promise<boolean>) | undefined;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The gate: `decide` runs the one decision (judge-pull.ts) with the pull's real effects, `explain`
 * runs the same with NO_EFFECTS, and `blobAccess` serves a blob only under a live allowance.
 */
export function createGate(deps: GateDeps, effects: DecisionEffects): Gate {
  const live = createLiveness({ verdicts: deps.verdicts, breakGlass: deps.breakGlass, now: deps.now });
  const reads: DecisionReads = {
    policy: deps.policy,
    trust: deps.trust,
    classify: createManifestClassifier(deps),
    clientFor: deps.clientFor,
    limits: deps.limits,
    scans: deps.scans,
    childAllowance: (generation, name, child) => deps.allowSets.childAllowance(generation, name, child, live),
    breakGlass: (now) => deps.breakGlass.active(now),
    sharedStateUp: deps.sharedStateUp,
    allowTtlMs: deps.allowTtlMs,
    now: deps.now,
    logger: deps.logger,
  };
  return {
    decide: async (context) => (await judgePull(context, reads, effects)).decision,
    explain: async (context) => explanationOf(await judgePull(context, reads, NO_EFFECTS), context, reads),
    async blobAccess(canonicalName, digest): Promise<BlobAccess> {
      if (!deps.blobGate) return { kind: 'stream', from: 'ungated' };
      const generation = generationOf(deps.policy(), deps.trust());
      const allowance = await deps.allowSets.blobAllowance(generation, canonicalName, digest, live);
      if (allowance === undefined) return { kind: 'deny' };
      if (allowance.format !== undefined) return { kind: 'check', format: allowance.format, size: allowance.size ?? 0 };
      return { kind: 'stream', from: sourceKind(allowance.source) === 'verdict' ? 'verdict' : 'break-glass' };
    },
  };
}
