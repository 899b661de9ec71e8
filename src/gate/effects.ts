import type { AuditLog } from '../audit/types.ts';
import type { Decision, Outcome } from '../decision/decision.ts';
import type { Logger } from '../log/logger.ts';
import type { ScanStore } from '../scan-store/types.ts';
import type { AllowSets, VerdictCache } from '../verdicts/types.ts';
import type { DecisionEffects } from './ports.ts';
import { ScanEpochs } from './scan-epochs.ts';
import { SingleFlight } from './single-flight.ts';

export interface PullEffectsDeps {
  readonly verdicts: VerdictCache;
  readonly allowSets: AllowSets;
  readonly scans: ScanStore;
  readonly audit?: AuditLog | undefined;
  readonly now: () => number;
  readonly logger: Logger;
  /** Called once per real verification (not per cache hit), for tests and metrics. */
  readonly onVerify?: ((canonicalName: string) => void) | undefined;
  /** Called with each verification's outcome and duration (cache misses only). */
  readonly onVerified?: ((outcome: Outcome, seconds: number) => void) | undefined;
}

/** The effects of a real pull: the verdict cache, allowances, scan requests and the break-glass audit. */
export function createPullEffects(deps: PullEffectsDeps): DecisionEffects {
  const flights = new SingleFlight<Decision>();
  const epochs = new ScanEpochs();
  const used = new Set<string>();
  const { allowSets } = deps;
  // A scan posted on any replica: forget what was decided about that digest without it.
  deps.scans.onPosted((digest) => {
    epochs.bump(digest);
    void deps.verdicts.forgetDigest(digest, true);
  });
  const mine = (source: string) => async (allowance: { source: string }) => allowance.source === source;

  return {
    memo: {
      get: (input) => deps.verdicts.get(input.key, deps.now(), input.id),
      run: (input, compute, store) =>
        flights.run(input.id, async () => {
          const epoch = epochs.of(input.key.digest);
          const decision = await compute();
          // A scan that arrived while this verification ran makes its verdict stale: neither cached nor granted.
          if (epochs.of(input.key.digest) !== epoch) return decision;
          await deps.verdicts.put(input.key, decision, deps.now(), input.id);
          await store(decision);
          return decision;
        }),
    },
    grantBlobs: (generation, name, blobs, grant) => allowSets.grantBlobs(generation, name, blobs, grant),
    grantChildren: (generation, name, index, children, grant) => allowSets.grantChildren(generation, name, index, children, grant),
    async stillGranted(generation, name, first, source) {
      if (first.blob !== undefined && (await allowSets.blobAllowance(generation, name, first.blob, mine(source))) === undefined)
        return false;
      if (first.child !== undefined && (await allowSets.childAllowance(generation, name, first.child, mine(source))) === undefined)
        return false;
      return true;
    },
    requestScan: (request) => void deps.scans.request(request),
    async breakGlassUsed(context, denied, entry) {
      const target = `${context.canonicalName}@${context.manifest.digest}`;
      const key = `${entry.id} ${target}`;
      if (used.has(key)) return;
      if (used.size >= 10_000) used.clear();
      used.add(key);
      const overrides = { rule: denied.rule, reasons: denied.reasons.map((r) => r.code) };
      deps.logger.warn(
        { event: 'break_glass_used', id: entry.id, name: context.canonicalName, digest: context.manifest.digest, overrides },
        'pull allowed by break glass',
      );
      const until = new Date(entry.expires).toISOString();
      await deps.audit?.append({
        actor: context.client?.subject ?? '(pull)',
        roles: [],
        action: 'breakglass.use',
        target,
        outcome: 'ok',
        message: `allowed by break glass "${entry.id}" (by ${entry.actor} until ${until}: ${entry.reason})`,
        before: overrides,
        after: { rule: 'break-glass', breakGlass: entry.id },
      });
    },
    verifying: (name) => deps.onVerify?.(name),
    verified: (outcome, seconds) => deps.onVerified?.(outcome, seconds),
  };
}
