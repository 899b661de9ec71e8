import express, { type NextFunction, type Request, type Response } from 'express';
import type { RobotStore } from '../pullauth/robots.ts';
import { registerRobotRoutes } from './robots-routes.ts';
import { auditDenied } from './audit-calls.ts';
import { registerAuditRoutes } from './audit-routes.ts';
import { registerConsoleConfigRoute } from './console-config-routes.ts';
import { registerControlRoutes, type ControlDeps } from './control-routes.ts';
import { registerKeyRoutes, type KeyRoutesDeps } from './keys-routes.ts';
import { registerOverviewRoutes } from './overview-routes.ts';
import { readRawBody } from './json-body.ts';
import { refusePrivateKeyInBody, refusePrivateKeyInRequestLine } from './private-key-input.ts';
import type { AdminRateLimit } from './rate-limit.ts';
import { getQueue, getScan, postScan, type ScanRoutesDeps } from './scans.ts';
import { requireRole, type AdminIdentity, type Role } from './tokens.ts';

export interface AdminDeps extends ScanRoutesDeps, KeyRoutesDeps {
  readonly verifyToken: (authorization: string | undefined) => Promise<AdminIdentity>;
  /** Robot accounts for pull-side access control; present when `pullAuth` is configured. */
  readonly robots?: RobotStore | undefined;
  /** Policy, break glass, explain and decisions (control-routes.ts). */
  readonly control?: ControlDeps;
  /** Per address and subject limits (rate-limit.ts); absent: unlimited. */
  readonly rateLimit?: AdminRateLimit | undefined;
}

type Handler = (req: Request, res: Response, identity: AdminIdentity) => Promise<void>;

/** /admin/v1: every call carries a bearer JWT; each route names the roles it accepts (deny by default). */
export function createAdminRouter(deps: AdminDeps): express.Router {
  const router = express.Router();
  const limit = deps.rateLimit;
  const guarded = (roles: readonly Role[], handler: Handler) => async (req: Request, res: Response, _next: NextFunction) => {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    await limit?.beforeAuth(address); // 429 (not audited) before any token is checked
    let identity: AdminIdentity | undefined;
    try {
      identity = await deps.verifyToken(req.headers.authorization);
    } catch (error) {
      await limit?.failedAuth(address);
      await auditDenied(deps.audit, req, identity, error); // 401 and 403 are audited too
      throw error;
    }
    await limit?.authenticated(identity.subject, address);
    try {
      requireRole(identity, roles);
      refusePrivateKeyInRequestLine(req); // before a handler reads, or an audit entry records, a query or path value
    } catch (error) {
      await auditDenied(deps.audit, req, identity, error);
      throw error;
    }
    await handler(req, res, identity);
  };
  const maxBodyBytes = deps.config.admin?.maxBodyBytes ?? 16 * 1_048_576;
  const body = express.raw({ type: () => true, limit: maxBodyBytes });
  // The one route without a token: the console's sign-in settings, public values only.
  registerConsoleConfigRoute(router, { admin: deps.config.admin, logger: deps.logger, now: deps.now });
  // The body is read after the guard: an unauthenticated caller never makes trustgate read one.
  router.post(
    '/scans',
    guarded(['scanner'], async (req, res, who) => {
      await readRawBody(body, req, res, maxBodyBytes);
      const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      try {
        refusePrivateKeyInBody(text, jsonOrUndefined(text));
      } catch (error) {
        await auditDenied(deps.audit, req, who, error); // refused before postScan's own audit
        throw error;
      }
      await postScan(req, res, who, deps);
    }),
  );
  router.get(
    '/scans/queue',
    guarded(['scanner', 'auditor'], (req, res) => getQueue(req, res, deps)),
  );
  router.get(
    '/scans/:digest',
    guarded(['scanner', 'auditor'], (req, res) => getScan(req, res, deps)),
  );
  registerKeyRoutes(router, guarded, deps);
  registerAuditRoutes(router, guarded, deps);
  if (deps.robots !== undefined) registerRobotRoutes(router, guarded, { robots: deps.robots, audit: deps.audit, now: deps.now });
  if (deps.control !== undefined) registerControlRoutes(router, guarded, { ...deps, ...deps.control });
  if (deps.control !== undefined) {
    const { decisions, breakGlass } = deps.control;
    registerOverviewRoutes(router, guarded, { decisions, breakGlass, trust: deps.trust, scans: deps.scans, now: deps.now });
  }
  return router;
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
