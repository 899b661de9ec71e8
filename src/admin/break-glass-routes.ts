import { randomBytes } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import type { AuditLog } from '../audit/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { imageProblem, type BreakGlassEntry, type BreakGlassStore } from '../breakglass/entries.ts';
import { printable } from '../oci/reference.ts';
import { audited } from './audit-calls.ts';
import { readJsonBody } from './json-body.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import { requireWithin } from './scope.ts';
import { scopeOf, type AdminIdentity, type Role } from './tokens.ts';

export interface BreakGlassRoutesDeps {
  readonly breakGlass: BreakGlassStore;
  readonly audit: AuditLog;
  readonly now: () => number;
}

const CHANGE: readonly Role[] = ['key-manager']; // admin holds every role
const READ: readonly Role[] = ['key-manager', 'auditor'];
const MAX_AHEAD_MS = 7 * 86_400_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const ID = /^bg-[0-9a-f]{12}$/;

/**
 * /admin/v1/breakglass: emergency exceptions to the policy, each for an image pattern or one
 * digest, with a reason and an expiry at most 7 days ahead (src/gate/break-glass.ts applies them).
 * Changes are audited: breakglass.add, breakglass.end.
 */
export function registerBreakGlassRoutes(router: Router, guarded: Guard, deps: BreakGlassRoutesDeps): void {
  mountRoutes(router, guarded, [
    ['post', '/breakglass', CHANGE, (req, res, who) => add(req, res, who, deps)],
    ['get', '/breakglass', READ, async (_req, res) => list(res, deps)],
    ['delete', '/breakglass/:id', CHANGE, (req, res, who) => end(req, res, who, deps)],
  ]);
}

export function breakGlassView(entry: BreakGlassEntry): Record<string, unknown> {
  return {
    id: entry.id,
    image: entry.image,
    reason: entry.reason,
    expires: new Date(entry.expires).toISOString(),
    actor: entry.actor,
    createdAt: new Date(entry.createdAt).toISOString(),
  };
}

async function add(req: Request, res: Response, who: AdminIdentity, deps: BreakGlassRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async (note) => {
    const body = await readJsonBody(req, res);
    const now = deps.now();
    const entry: BreakGlassEntry = {
      id: `bg-${randomBytes(6).toString('hex')}`,
      ...parseBody(body, now),
      actor: who.subject,
      createdAt: now,
    };
    note.target = entry.id;
    requireWithin(who, 'key-manager', [imageName(entry.image)], 'the break-glass image');
    await store(() => deps.breakGlass.add(entry));
    return { target: entry.id, after: breakGlassView(entry) };
  });
  res.status(201).json({ ...(change.after as object), shared: deps.breakGlass.shared });
}

function list(res: Response, deps: BreakGlassRoutesDeps): void {
  const entries = [...deps.breakGlass.active(deps.now())].sort((a, b) => a.expires - b.expires);
  res.json({ shared: deps.breakGlass.shared, entries: entries.map(breakGlassView) });
}

async function end(req: Request, res: Response, who: AdminIdentity, deps: BreakGlassRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async () => {
    const id = String(req.params['id']);
    const entry = ID.test(id) ? deps.breakGlass.active(deps.now()).find((e) => e.id === id) : undefined;
    if (scopeOf(who, 'key-manager') !== undefined) {
      // A scoped key-manager ends only entries this replica knows, and only for images within their scope.
      if (entry === undefined) throw new TrustgateError('NOT_FOUND', `no active break-glass entry "${printable(id, 40)}"`);
      requireWithin(who, 'key-manager', [imageName(entry.image)], 'the break-glass image');
    }
    if (!ID.test(id) || !(await store(() => deps.breakGlass.end(id))))
      throw new TrustgateError('NOT_FOUND', `no active break-glass entry "${printable(id, 40)}"`);
    const ended = { endedAt: new Date(deps.now()).toISOString(), endedBy: who.subject };
    return {
      target: id,
      ...(entry === undefined ? {} : { before: breakGlassView(entry) }),
      after: { id, ...(entry === undefined ? {} : breakGlassView(entry)), ...ended },
    };
  });
  res.json(change.after);
}

function parseBody(body: Record<string, unknown>, now: number): Pick<BreakGlassEntry, 'image' | 'reason' | 'expires'> {
  const unknown = Object.keys(body).filter((k) => !['image', 'reason', 'expires'].includes(k));
  if (unknown.length > 0)
    throw new TrustgateError('BAD_REQUEST', `unknown field "${printable(unknown[0]!, 40)}": the body is { image, reason, expires }`);
  const { image, reason, expires } = body;
  if (typeof image !== 'string')
    throw new TrustgateError('BAD_REQUEST', '"image" is required: a pattern over canonical names, or <canonical name>@<digest>');
  const problem = imageProblem(image);
  if (problem !== undefined) throw new TrustgateError('BAD_REQUEST', problem);
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500)
    throw new TrustgateError('BAD_REQUEST', '"reason" is required: why the policy is bypassed (at most 500 characters)');
  const at = typeof expires === 'string' && RFC3339.test(expires) ? Date.parse(expires) : Number.NaN;
  if (Number.isNaN(at)) throw new TrustgateError('BAD_REQUEST', '"expires" is required: an RFC 3339 time such as 2026-06-01T18:00:00Z');
  if (at <= now) throw new TrustgateError('BAD_REQUEST', '"expires" must be in the future');
  if (at > now + MAX_AHEAD_MS) throw new TrustgateError('BAD_REQUEST', '"expires" must be at most 7 days ahead');
  return { image, reason: reason.trim(), expires: at };
}

/** The name part of an image (a pattern, or a canonical name before `@<digest>`). */
const imageName = (image: string): string => (image.includes('@') ? image.slice(0, image.indexOf('@')) : image);

async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw new TrustgateError('STORE_UNAVAILABLE', 'the break-glass store (redis) is unavailable; nothing was changed, try again', {
      cause: error,
    });
  }
}
