import type { Logger } from '../log/logger.ts';
import { holdsPrivateKeyMaterial } from './private-key-material.ts';
import type { AuditEntry, AuditEvent, AuditQuery } from './types.ts';

export const UNAUTHENTICATED = '(unauthenticated)';
export const REDACTED = '[redacted]';

/** Field names whose values are secrets wherever they appear. */
const SECRET_FIELD = /^(authorization|password|passphrase|secret|token|bearer|cookie|private_?key|pem)$/i;
/** Values that are secrets whatever their field: PEM private keys, JWTs, bearer credentials (and, below, key material in any encoding). */
const SECRET_VALUE = [
  /BEGIN [A-Z0-9 ]*PRIVATE KEY|PRIVATE KEY-----/,
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./,
  /^\s*(bearer|basic)\s+\S/i,
];

/** A copy with every secret-looking field or value replaced by `[redacted]` (defence in depth). */
export function scrubAudit(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return SECRET_VALUE.some((p) => p.test(value)) || holdsPrivateKeyMaterial(value) ? REDACTED : value;
  if (value === null || typeof value !== 'object' || depth > 8) return depth > 8 ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => scrubAudit(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (holdsPrivateKeyMaterial(k)) out[REDACTED] = REDACTED;
    else out[k] = SECRET_FIELD.test(k) ? REDACTED : scrubAudit(v, depth + 1);
  }
  return out;
}

/** The stored form: fixed fields, scrubbed, without undefined values. */
export function makeEntry(id: string, time: number, event: AuditEvent): AuditEntry {
  const clean = scrubAudit({ ...event }) as AuditEvent;
  return {
    id,
    time,
    actor: clean.actor,
    roles: [...clean.roles],
    action: clean.action,
    target: clean.target,
    outcome: clean.outcome,
    ...(clean.message === undefined ? {} : { message: clean.message }),
    ...(clean.before === undefined ? {} : { before: clean.before }),
    ...(clean.after === undefined ? {} : { after: clean.after }),
    ...(clean.requestId === undefined ? {} : { requestId: clean.requestId }),
  };
}

/** Every entry goes to the log output too: the second copy docs/design.md §6 "Audit log" asks for. */
export function logEntry(logger: Logger, entry: Omit<AuditEntry, 'id'> & { id?: string }): void {
  const record = { event: 'audit', ...entry, time: new Date(entry.time).toISOString() };
  if (entry.outcome === 'ok') logger.info(record, 'audit');
  else logger.warn(record, 'audit');
}

export function matches(entry: AuditEntry, query: AuditQuery): boolean {
  if (query.actor !== undefined && entry.actor !== query.actor) return false;
  if (query.target !== undefined && entry.target !== query.target) return false;
  if (query.outcome !== undefined && entry.outcome !== query.outcome) return false;
  if (query.since !== undefined && entry.time < query.since) return false;
  if (query.until !== undefined && entry.time > query.until) return false;
  if (query.action === undefined) return true;
  return query.action.endsWith('.*') ? entry.action.startsWith(query.action.slice(0, -1)) : entry.action === query.action;
}

export const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

/** Orders stream ids (`<ms>-<seq>`) numerically. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
