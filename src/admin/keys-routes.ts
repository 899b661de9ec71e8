import type { Request, RequestHandler, Response, Router } from 'express';
import { TrustgateError } from '../errors/errors.ts';
import { addKey, patchKey, revokeKey, rotateKey, type KeyRoutesDeps } from './key-changes.ts';
import { findKey, keyView, validAt } from './key-view.ts';
import type { AdminIdentity, Role } from './tokens.ts';

export type { KeyRoutesDeps } from './key-changes.ts';

/** The admin router's guard: verifies the token, checks the roles (audits a refusal), then runs the handler. */
export type Guard = (
  roles: readonly Role[],
  handler: (req: Request, res: Response, identity: AdminIdentity) => Promise<void>,
) => RequestHandler;

const CHANGE: readonly Role[] = ['key-manager']; // admin holds every role
const READ: readonly Role[] = ['key-manager', 'auditor'];

/**
 * /admin/v1/keys: the trust store's keys and notation roots. Reading needs key-manager or auditor;
 * changing needs key-manager (config/README.md, "admin").
 */
export function registerKeyRoutes(router: Router, guarded: Guard, deps: KeyRoutesDeps): void {
  router.get(
    '/keys',
    guarded(READ, async (_req, res) => listKeys(res, deps)),
  );
  router.get(
    '/keys/:id',
    guarded(READ, async (req, res) => getKey(req, res, deps)),
  );
  router.post(
    '/keys',
    guarded(CHANGE, (req, res, who) => addKey(req, res, who, deps)),
  );
  router.patch(
    '/keys/:id',
    guarded(CHANGE, (req, res, who) => patchKey(req, res, who, deps)),
  );
  router.post(
    '/keys/:id/revoke',
    guarded(CHANGE, (req, res, who) => revokeKey(req, res, who, deps)),
  );
  router.post(
    '/keys/:id/rotate',
    guarded(CHANGE, (req, res, who) => rotateKey(req, res, who, deps)),
  );
}

function listKeys(res: Response, deps: KeyRoutesDeps): void {
  const snapshot = deps.trust.snapshot();
  const now = deps.now();
  const revoked = new Map(snapshot.revocations.map((r) => [r.id, r]));
  const keys = snapshot.entries.map((entry) => {
    const view = keyView(entry, revoked.get(entry.id));
    return { ...view, validNow: validAt(view, entry, now) };
  });
  const known = new Set(snapshot.entries.map((e) => e.id));
  // Ids revoked before they were ever added (trustgate revoke): never trusted if they appear.
  const revokedUnknown = snapshot.revocations
    .filter((r) => !known.has(r.id))
    .map((r) => ({ id: r.id, revokedAt: new Date(r.revokedAt).toISOString(), reason: r.reason }));
  res.json({ version: snapshot.version, durable: deps.trustDurable, keys, revokedUnknown });
}

function getKey(req: Request, res: Response, deps: KeyRoutesDeps): void {
  const id = String(req.params['id']);
  const found = findKey(deps.trust.snapshot(), id);
  if (found === undefined) throw new TrustgateError('NOT_FOUND', `no trust entry "${id.slice(0, 100)}"`);
  res.json({ ...found.view, validNow: validAt(found.view, found.entry, deps.now()) });
}
