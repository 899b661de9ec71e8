import express, { type Request, type Response, type Router } from 'express';
import type { AuditLog } from '../audit/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import type { PolicyHolder } from '../policy-store/holder.ts';
import { validatePolicy, type PolicyProblem } from '../policy/validate.ts';
import type { ApiPolicy } from '../policy-store/api-policy.ts';
import { audited } from './audit-calls.ts';
import { readRawBody } from './json-body.ts';
import { withLines } from './policy-lines.ts';
import { refusePrivateKeyInYaml } from './private-key-input.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import { requireUnscoped } from './scope.ts';
import type { AdminIdentity, Role } from './tokens.ts';

export interface PolicyRoutesDeps {
  readonly policy: PolicyHolder;
  /** Undefined without Redis: changes are refused (409), since they would not be durable or shared. */
  readonly apiPolicy: ApiPolicy | undefined;
  readonly audit: AuditLog;
}

const CHANGE: readonly Role[] = ['key-manager']; // admin holds every role
const READ: readonly Role[] = ['key-manager', 'auditor'];
const MAX_BYTES = 1_048_576;
const GLOBAL_POLICY = 'a repository-scoped key-manager cannot change the global policy';
const textBody = express.raw({ type: () => true, limit: MAX_BYTES });

/**
 * /admin/v1/policy: read the active policy, validate a text, apply one on every replica, roll
 * back. Bodies are policy YAML. Changes are audited (policy.apply, policy.rollback) with the
 * hashes and versions before and after.
 */
export function registerPolicyRoutes(router: Router, guarded: Guard, deps: PolicyRoutesDeps): void {
  mountRoutes(router, guarded, [
    ['get', '/policy', READ, async (_req, res) => void res.json(describe(deps.policy, true))],
    ['post', '/policy/validate', READ, async (req, res) => validate(req, res, deps)],
    ['put', '/policy', CHANGE, (req, res, who) => apply(req, res, who, deps)],
    ['post', '/policy/rollback', CHANGE, (req, res, who) => rollback(req, res, who, deps)],
  ]);
}

function describe(holder: PolicyHolder, withText = false): Record<string, unknown> {
  const policy = holder.current();
  const origin = holder.origin();
  return {
    source: origin.source,
    hash: policy.hash,
    version: origin.version ?? null,
    ...(withText ? { text: policy.text ?? null, rules: policy.rules.length } : {}),
    ...(origin.actor === undefined ? {} : { appliedBy: origin.actor }),
    ...(origin.time === undefined ? {} : { appliedAt: new Date(origin.time).toISOString() }),
  };
}

async function readText(req: Request, res: Response): Promise<string> {
  await readRawBody(textBody, req, res, MAX_BYTES);
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  refusePrivateKeyInYaml(text);
  return text;
}

const check = (text: string, deps: PolicyRoutesDeps) => validatePolicy(text, 'policy', (t, source) => deps.policy.compile(t, source));

async function validate(req: Request, res: Response, deps: PolicyRoutesDeps): Promise<void> {
  const text = await readText(req, res);
  const result = check(text, deps);
  if (result.ok) res.json({ ok: true, hash: result.policy.hash, rules: result.policy.rules.length });
  else res.status(400).json({ ok: false, errors: withLines(text, result.errors) });
}

function requireApi(deps: PolicyRoutesDeps): ApiPolicy {
  if (deps.apiPolicy === undefined) {
    throw new TrustgateError(
      'CONFLICT',
      'policy changes through the admin API need redis.url: without Redis a change would be lost at the next restart and unseen by other replicas (edit the policy file instead)',
    );
  }
  return deps.apiPolicy;
}

async function apply(req: Request, res: Response, who: AdminIdentity, deps: PolicyRoutesDeps): Promise<void> {
  let problems: readonly PolicyProblem[] | undefined;
  try {
    const change = await audited(deps.audit, req, who, async (note) => {
      note.target = 'policy';
      requireUnscoped(who, 'key-manager', GLOBAL_POLICY);
      const api = requireApi(deps);
      const text = await readText(req, res);
      const result = check(text, deps);
      if (!result.ok) {
        problems = withLines(text, result.errors);
        const first = result.errors[0];
        throw new TrustgateError('BAD_REQUEST', `policy refused: ${first?.field === '' ? '' : `${first?.field}: `}${first?.message ?? ''}`);
      }
      const before = describe(deps.policy);
      const { version } = await store(() => api.apply(result.policy.text ?? '', result.policy.hash, who.subject));
      return { target: 'policy', before, after: { source: 'api', hash: result.policy.hash, version } };
    });
    const after = change.after as { hash: string; version: number };
    res.json({ hash: after.hash, version: after.version });
  } catch (error) {
    if (problems === undefined) throw error;
    res.status(400).json({ ok: false, errors: problems });
  }
}

async function rollback(req: Request, res: Response, who: AdminIdentity, deps: PolicyRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async (note) => {
    note.target = 'policy';
    requireUnscoped(who, 'key-manager', GLOBAL_POLICY);
    const api = requireApi(deps);
    const before = describe(deps.policy);
    const { from, to } = await store(() => api.rollback());
    if (from === 0)
      throw new TrustgateError(
        'CONFLICT',
        'no policy was applied through the admin API: the policy file is active, and there is nothing to roll back',
      );
    if (to === 0)
      throw new TrustgateError(
        'CONFLICT',
        `version ${from} is the first policy applied through the admin API: there is no earlier version (PUT the policy you want)`,
      );
    const record = await store(() => api.version(to));
    return { target: 'policy', before, after: { source: 'api', hash: record?.hash, version: to, rolledBackFrom: from } };
  });
  res.json(change.after);
}

async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw new TrustgateError('STORE_UNAVAILABLE', 'the policy store (redis) is unavailable; try again', { cause: error });
  }
}
