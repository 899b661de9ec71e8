import type { Request, Response, Router } from 'express';
import type { AuditLog, AuditOutcome } from '../audit/types.ts';
import { STREAM_ID } from '../audit/audit-entry.ts';
import { TrustgateError } from '../errors/errors.ts';
import { mountRoutes, type Guard } from './route-table.ts';

export interface AuditRoutesDeps {
  readonly audit: AuditLog;
  readonly now: () => number;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const OUTCOMES: readonly AuditOutcome[] = ['ok', 'denied', 'error'];
/** A page is at most this many entries; an export (`format=json`) at most EXPORT_LIMIT. */
const PAGE_LIMIT = 1000;
const EXPORT_LIMIT = 10_000;

/**
 * GET /admin/v1/audit?limit=&after=&actor=&action=&target=&outcome=&since=&until=&format= (auditor
 * or admin): the audit log, newest first, one page at a time (`next` is the `after` of the next
 * page). `format=json` answers the same document as a download (Content-Disposition: attachment).
 */
export function registerAuditRoutes(router: Router, guarded: Guard, deps: AuditRoutesDeps): void {
  mountRoutes(router, guarded, [['get', '/audit', ['auditor'], async (req, res) => getAudit(req, res, deps)]]);
}

const one = (req: Request, name: string): string | undefined => {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 256)
    throw new TrustgateError('BAD_REQUEST', `"${name}" must be given once, 1 to 256 characters`);
  return value;
};

function time(req: Request, name: string): number | undefined {
  const value = one(req, name);
  if (value === undefined) return undefined;
  const at = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) throw new TrustgateError('BAD_REQUEST', `"${name}" must be an RFC 3339 time such as 2026-06-01T18:00:00Z`);
  return at;
}

async function getAudit(req: Request, res: Response, deps: AuditRoutesDeps): Promise<void> {
  const format = one(req, 'format');
  if (format !== undefined && format !== 'json') throw new TrustgateError('BAD_REQUEST', '"format" must be "json" (a download)');
  const max = format === 'json' ? EXPORT_LIMIT : PAGE_LIMIT;
  const limit = Number(one(req, 'limit') ?? (format === 'json' ? EXPORT_LIMIT : 100));
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new TrustgateError('BAD_REQUEST', `"limit" must be a whole number from 1 to ${max}`);
  const after = one(req, 'after');
  if (after !== undefined && !STREAM_ID.test(after))
    throw new TrustgateError('BAD_REQUEST', '"after" must be the "next" cursor of a previous page');
  const outcome = one(req, 'outcome');
  if (outcome !== undefined && !OUTCOMES.includes(outcome as AuditOutcome))
    throw new TrustgateError('BAD_REQUEST', '"outcome" must be "ok", "denied" or "error"');
  const since = time(req, 'since');
  const until = time(req, 'until');
  if (since !== undefined && until !== undefined && until < since)
    throw new TrustgateError('BAD_REQUEST', '"until" must not be earlier than "since"');
  const filters = { actor: one(req, 'actor'), action: one(req, 'action'), target: one(req, 'target'), outcome, since, until };
  const page = await deps.audit.page({
    limit,
    ...(after === undefined ? {} : { after }),
    ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
  });
  const body = {
    entries: page.entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
    ...(page.next === undefined ? {} : { next: page.next }),
  };
  if (format === 'json') {
    const stamp = new Date(deps.now()).toISOString().replace(/[:.]/g, '-');
    res.setHeader('content-disposition', `attachment; filename="trustgate-audit-${stamp}.json"`);
    res.type('application/json').send(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  res.json(body);
}
