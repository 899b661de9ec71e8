import { findBreakGlass, type BreakGlassEntry } from '../breakglass/entries.ts';
import { allowDecision, type Decision } from '../decision/decision.ts';
import type { PullContext } from './types.ts';

/**
 * Break glass (config/README.md "Break glass"): a policy denial matched by an active entry becomes
 * an allow, rule `break-glass`, reason `break_glass`, until the entry's expiry. Only policy
 * denials: who may pull, which sources exist and which manifest formats can be verified are
 * decided before the policy and never reach here. The allow is never cached: the gate's own verdict
 * stays the denial, so the entry ending ends the allow at once.
 */
export function breakGlassOverride(
  context: PullContext,
  decision: Decision,
  active: readonly BreakGlassEntry[],
  now: number,
): { readonly decision: Decision; readonly entry: BreakGlassEntry } | undefined {
  if (decision.outcome !== 'deny') return undefined;
  const entry = findBreakGlass(active, context.canonicalName, context.manifest.digest, now);
  if (entry === undefined) return undefined;
  const message = `break glass "${entry.id}" by ${entry.actor} until ${new Date(entry.expires).toISOString()}: ${entry.reason}`;
  return {
    entry,
    decision: allowDecision('break-glass', context.manifest.digest, decision.signers, entry.expires, [{ code: 'break_glass', message }]),
  };
}
