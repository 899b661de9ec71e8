import type { Request, Response, Router } from 'express';
import type { AuditLog } from '../audit/types.ts';
import { STREAM_ID } from '../audit/audit-entry.ts';
import { TrustgateError } from '../errors/errors.ts';
import { mountRoutes, type Guard } from './route-table.ts';

export interface AuditRoutesDeps {
  readonly audit: AuditLog;
}

/** GET /admin/v1/audit?limit=&after=&actor=&action= (auditor or admin): the audit log, newest first. */
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

async function getAudit(req: Request, res: Response, deps: AuditRoutesDeps): Promise<void> {
  const limit = Number(one(req, 'limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new TrustgateError('BAD_REQUEST', '"limit" must be a whole number from 1 to 1000');
  const after = one(req, 'after');
  if (after !== undefined && !STREAM_ID.test(after))
    throw new TrustgateError('BAD_REQUEST', '"after" must be the "next" cursor of a previous page');
  const actor = one(req, 'actor');
  const action = one(req, 'action');
  const page = await deps.audit.page({
    limit,
    ...(after === undefined ? {} : { after }),
    ...(actor === undefined ? {} : { actor }),
    ...(action === undefined ? {} : { action }),
  });
  res.json({
    entries: page.entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
    ...(page.next === undefined ? {} : { next: page.next }),
  });
}
