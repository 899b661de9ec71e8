// Admin changes and break-glass use, as events. Every one of them is already appended to the audit
// log, by one helper (admin/audit-calls.ts `audited`) or by the pull's effects (gate/effects.ts),
// so the notifier listens there, in one place, and the routes stay as they are. Only changes that
// succeeded (`ok`) notify.
import { scrubAudit } from '../audit/audit-entry.ts';
import type { AuditEvent, AuditLog } from '../audit/types.ts';
import { contentId, randomId, type NotificationEvent } from './event.ts';
import type { Notifier } from './notifier.ts';

type Fields = Readonly<Record<string, unknown>>;
const fields = (value: unknown): Fields => (typeof value === 'object' && value !== null ? (value as Fields) : {});
/** Only the named fields, when present: an event carries what a receiver needs, nothing more. */
const pick = (from: Fields, names: readonly string[]): Fields =>
  Object.fromEntries(names.filter((n) => from[n] !== undefined).map((n) => [n, from[n]]));

/** The event an audited change means, if it means one. */
export function eventOf(entry: AuditEvent, time: number): NotificationEvent | undefined {
  if (entry.outcome !== 'ok') return undefined;
  const before = fields(entry.before);
  const after = fields(entry.after);
  switch (entry.action) {
    case 'breakglass.add':
      return { id: randomId(), type: 'breakglass.opened', time, data: pick(after, ['id', 'image', 'reason', 'expires', 'actor']) };
    case 'breakglass.end':
      return {
        id: randomId(),
        type: 'breakglass.ended',
        time,
        data: { id: entry.target, ...pick(after, ['image', 'reason', 'expires', 'endedAt', 'endedBy']) },
      };
    case 'breakglass.use':
      // Each replica audits a use once per entry and image; every replica's shares this id.
      return {
        id: contentId('breakglass.used', String(after['breakGlass']), entry.target),
        type: 'breakglass.used',
        time,
        data: { id: after['breakGlass'], image: entry.target, subject: entry.actor, overrides: before },
      };
    case 'key.revoke':
      return {
        id: randomId(),
        type: 'key.revoked',
        time,
        data: { id: entry.target, ...pick(after, ['kind', 'fingerprint', 'revokedAt', 'reason', 'scopes']), revokedBy: entry.actor },
      };
    case 'policy.apply':
    case 'policy.rollback':
      return {
        id: randomId(),
        type: 'policy.applied',
        time,
        data: { ...pick(after, ['source', 'hash', 'version', 'rolledBackFrom']), previous: before['hash'], appliedBy: entry.actor },
      };
    default:
      return undefined;
  }
}

/** `audit`, telling `notifier` of each change that means an event once the entry is appended. */
export function notifyingAudit(audit: AuditLog, notifier: Pick<Notifier, 'emit'>, now: () => number): AuditLog {
  return {
    async append(entry) {
      await audit.append(entry);
      try {
        // Scrubbed as the stored entry is: a reason typed into an admin call may hold anything.
        const event = eventOf(scrubAudit(entry) as AuditEvent, now());
        if (event !== undefined) notifier.emit(event);
      } catch {
        // a notice never fails the change it reports (emit logs its own failures)
      }
    },
    page: (query) => audit.page(query),
  };
}
