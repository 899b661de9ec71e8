import type { Request } from 'express';
import { holdsPrivateKeyMaterial } from '../audit/private-key-material.ts';

/**
 * Audit action names of the admin routes, by method and route path (as registered on the admin
 * router). A route missing here is audited as `admin.<method>` with its path as the target.
 */
const ACTIONS: Readonly<Record<string, string>> = {
  'POST /scans': 'scan.post',
  'GET /scans/queue': 'scan.queue.read',
  'GET /scans/:digest': 'scan.read',
  'GET /keys': 'key.list',
  'GET /keys/:id': 'key.read',
  'POST /keys': 'key.add',
  'PATCH /keys/:id': 'key.update',
  'POST /keys/:id/revoke': 'key.revoke',
  'POST /keys/:id/rotate': 'key.rotate',
  'GET /audit': 'audit.read',
  'POST /robots': 'robot.add',
  'GET /robots': 'robot.list',
  'DELETE /robots/:name': 'robot.revoke',
  'GET /policy': 'policy.read',
  'POST /policy/validate': 'policy.validate',
  'PUT /policy': 'policy.apply',
  'POST /policy/rollback': 'policy.rollback',
  'GET /policy/history': 'policy.history.read',
  'GET /policy/versions/:version': 'policy.version.read',
  'POST /breakglass': 'breakglass.add',
  'GET /breakglass': 'breakglass.list',
  'DELETE /breakglass/:id': 'breakglass.end',
  'GET /explain': 'explain.read',
  'GET /decisions': 'decision.read',
  'GET /decisions/recent': 'decision.recent.read',
  'GET /overview': 'overview.read',
  'GET /console/config': 'console.config.read',
};

const routePath = (req: Request): string => {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : req.path;
};

export const actionOf = (req: Request): string => ACTIONS[`${req.method} ${routePath(req)}`] ?? `admin.${req.method.toLowerCase()}`;

/**
 * What a call was on, before its body is read: the key id or digest in the path, the image queried,
 * else the path; the route's template instead when any of those holds private key material (a
 * refused call is audited too, and its target must not carry the key: private-key-input.ts).
 */
export function targetOf(req: Request): string {
  const param = req.params['id'] ?? req.params['digest'] ?? req.params['name'];
  const image = req.query['image'];
  const target = typeof param === 'string' ? param : typeof image === 'string' ? image : `${req.baseUrl}${req.path}`;
  return holdsPrivateKeyMaterial(target) ? `${req.baseUrl}${routePath(req)}`.slice(0, 300) : target.slice(0, 300);
}
