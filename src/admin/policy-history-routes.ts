import type { Request, Response, Router } from 'express';
import { TrustgateError } from '../errors/errors.ts';
import type { ApiPolicy } from '../policy-store/api-policy.ts';
import type { PolicyHolder } from '../policy-store/holder.ts';
import type { PolicyVersion } from '../policy-store/redis-policy-versions.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import type { Role } from './tokens.ts';

export interface PolicyHistoryDeps {
  readonly policy: PolicyHolder;
  /** Undefined without Redis: there is no API history, only the file. */
  readonly apiPolicy: ApiPolicy | undefined;
}

const READ: readonly Role[] = ['key-manager', 'auditor']; // and admin
const MAX_LIMIT = 100;
/** Versions written after the active one (it was rolled back) are found by probing upwards, at most this many. */
const MAX_AHEAD = 1_000;

/**
 * GET /admin/v1/policy/history?limit=&before=: the policies applied through the admin API, newest
 * first (version, hash, author, time, the version a rollback returns to, whether active); no texts.
 * GET /admin/v1/policy/versions/<n>: one version with its text, for the console's diff. Versions
 * are never changed once written (policy-store/redis-policy-versions.ts).
 */
export function registerPolicyHistoryRoutes(router: Router, guarded: Guard, deps: PolicyHistoryDeps): void {
  mountRoutes(router, guarded, [
    ['get', '/policy/history', READ, async (req, res) => history(req, res, deps)],
    ['get', '/policy/versions/:version', READ, async (req, res) => version(req, res, deps)],
  ]);
}

const view = (v: PolicyVersion, active: number | undefined): Record<string, unknown> => ({
  version: v.version,
  hash: v.hash,
  actor: v.actor,
  time: new Date(v.time).toISOString(),
  previous: v.previous ?? null,
  active: v.version === active,
});

function whole(req: Request, name: string, min: number, max: number): number | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new TrustgateError('BAD_REQUEST', `"${name}" must be a whole number from ${min} to ${max}`);
  return n;
}

async function history(req: Request, res: Response, deps: PolicyHistoryDeps): Promise<void> {
  const limit = whole(req, 'limit', 1, MAX_LIMIT) ?? 20;
  const before = whole(req, 'before', 1, 999_999_999);
  const origin = deps.policy.origin();
  const base = { source: origin.source, hash: deps.policy.current().hash, activeVersion: origin.version ?? null };
  const api = deps.apiPolicy;
  if (api === undefined) {
    res.json({ ...base, durable: false, versions: [] });
    return;
  }
  const versions = await store(async () => {
    let newest = origin.version ?? 0;
    for (let probes = 0; probes < MAX_AHEAD && (await api.version(newest + 1)) !== undefined; probes += 1) newest += 1;
    const out: PolicyVersion[] = [];
    for (let n = Math.min(newest, (before ?? Infinity) - 1); n >= 1 && out.length < limit; n -= 1) {
      const record = await api.version(n);
      if (record !== undefined) out.push(record);
    }
    return out;
  });
  const last = versions.at(-1);
  res.json({
    ...base,
    durable: true,
    versions: versions.map((v) => view(v, origin.version)),
    ...(last !== undefined && last.version > 1 && versions.length === limit ? { next: last.version } : {}),
  });
}

async function version(req: Request, res: Response, deps: PolicyHistoryDeps): Promise<void> {
  const text = String(req.params['version']);
  const n = /^\d{1,9}$/.test(text) ? Number(text) : 0;
  if (n < 1) throw new TrustgateError('BAD_REQUEST', 'the version must be a whole number from 1');
  const record = deps.apiPolicy === undefined ? undefined : await store(() => deps.apiPolicy!.version(n));
  if (record === undefined) throw new TrustgateError('NOT_FOUND', `no policy version ${n} was applied through the admin API`);
  res.json({ ...view(record, deps.policy.origin().version), text: record.text });
}

async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw new TrustgateError('STORE_UNAVAILABLE', 'the policy store (redis) is unavailable; try again', { cause: error });
  }
}
