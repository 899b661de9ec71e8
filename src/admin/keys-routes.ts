import type { Request, Response, Router } from 'express';
import { TrustgateError } from '../errors/errors.ts';
import { addKey, patchKey, revokeKey, rotateKey, type KeyRoutesDeps } from './key-changes.ts';
import { findKey, keyView, validAt } from './key-view.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import type { Role } from './tokens.ts';

export type { KeyRoutesDeps } from './key-changes.ts';

const CHANGE: readonly Role[] = ['key-manager']; // admin holds every role
const READ: readonly Role[] = ['key-manager', 'auditor'];

/**
 * /admin/v1/keys: the trust store's keys and notation roots. Reading needs key-manager or auditor;
 * changing needs key-manager (config/README.md, "admin").
 */
export function registerKeyRoutes(router: Router, guarded: Guard, deps: KeyRoutesDeps): void {
  mountRoutes(router, guarded, [
    ['get', '/keys', READ, async (_req, res) => listKeys(res, deps)],
    ['get', '/keys/:id', READ, async (req, res) => getKey(req, res, deps)],
    ['post', '/keys', CHANGE, (req, res, who) => addKey(req, res, who, deps)],
    ['patch', '/keys/:id', CHANGE, (req, res, who) => patchKey(req, res, who, deps)],
    ['post', '/keys/:id/revoke', CHANGE, (req, res, who) => revokeKey(req, res, who, deps)],
    ['post', '/keys/:id/rotate', CHANGE, (req, res, who) => rotateKey(req, res, who, deps)],
  ]);
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
