import type { Request } from 'express';
import type { AuditLog, AuditOutcome } from '../audit/types.ts';
import { UNAUTHENTICATED } from '../audit/audit-entry.ts';
import { isTrustgateError } from '../errors/errors.ts';
import { requestIdOf } from '../server/request-id.ts';
import { actionOf, targetOf } from './actions.ts';
import type { AdminIdentity } from './tokens.ts';

/** What a change reports for its audit entry: public data only (a key's fingerprint, never its PEM). */
export interface AuditedChange {
  readonly target?: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

const outcomeOf = (error: unknown): AuditOutcome =>
  isTrustgateError(error) && (error.code === 'UNAUTHORIZED' || error.code === 'DENIED') ? 'denied' : 'error';

/** The roles an entry records: scoped ones as `<role>@<pattern>`, as the token claimed them. */
const rolesOf = (who: AdminIdentity): string[] => who.roles.flatMap((r) => who.scopes[r]?.map((p) => `${r}@${p}`) ?? [r]);

const messageOf = (error: unknown): string => (isTrustgateError(error) ? error.message : 'internal error');

/** The guard's hook: a call refused by the token check (401) or the role check (403). */
export async function auditDenied(audit: AuditLog, req: Request, identity: AdminIdentity | undefined, error: unknown): Promise<void> {
  const requestId = requestIdOf(req);
  await audit.append({
    actor: identity?.subject ?? UNAUTHENTICATED,
    roles: identity === undefined ? [] : rolesOf(identity),
    action: actionOf(req),
    target: targetOf(req),
    outcome: outcomeOf(error),
    message: messageOf(error),
    ...(requestId === undefined ? {} : { requestId }),
  });
}

/**
 * Runs a change and audits it: `ok` with what `run` reports, or `error` with the message the caller
 * gets (then rethrows). `run` may name its target early (`note.target`, e.g. the id from the body)
 * so a failure is filed under it. Returns the change, for the caller to answer with once the entry
 * is written.
 */
export async function audited(
  audit: AuditLog,
  req: Request,
  who: AdminIdentity,
  run: (note: { target?: string }) => Promise<AuditedChange>,
): Promise<AuditedChange> {
  const requestId = requestIdOf(req);
  const base = { actor: who.subject, roles: rolesOf(who), action: actionOf(req), ...(requestId === undefined ? {} : { requestId }) };
  const note: { target?: string } = {};
  let change: AuditedChange;
  try {
    change = await run(note);
  } catch (error) {
    await audit.append({ ...base, target: note.target ?? targetOf(req), outcome: outcomeOf(error), message: messageOf(error) });
    throw error;
  }
  await audit.append({
    ...base,
    target: change.target ?? note.target ?? targetOf(req),
    outcome: 'ok',
    before: change.before,
    after: change.after,
  });
  return change;
}
