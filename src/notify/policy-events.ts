// A policy file reloaded (SIGHUP) is a policy applied too. Admin API changes are not heard here:
// they reach the notifier through the audit log with their actor (audit-events.ts), and every
// replica following one into its holder would otherwise tell it again.
import type { PolicyHolder } from '../policy-store/holder.ts';
import { contentId } from './event.ts';
import type { Notifier } from './notifier.ts';

/** Replicas reloading the same file within this long share one event. */
const FILE_DEDUPE_MS = 600_000;

export function notifyPolicyFileReloads(
  policy: Pick<PolicyHolder, 'onChange' | 'origin'>,
  notifier: Pick<Notifier, 'emit'>,
  now: () => number,
): void {
  policy.onChange((next) => {
    if (policy.origin().source !== 'file') return;
    const time = now();
    notifier.emit({
      id: contentId('policy.applied', 'file', next.hash, Math.floor(time / FILE_DEDUPE_MS)),
      type: 'policy.applied',
      time,
      data: { source: 'file', hash: next.hash, rules: next.rules.length },
      dedupeMs: FILE_DEDUPE_MS,
    });
  });
}
