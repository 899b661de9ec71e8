import express, { type NextFunction, type Request, type Response } from 'express';
import { getQueue, getScan, postScan, type ScanRoutesDeps } from './scans.ts';
import { requireRole, type AdminIdentity, type Role } from './tokens.ts';

export interface AdminDeps extends ScanRoutesDeps {
  readonly verifyToken: (authorization: string | undefined) => Promise<AdminIdentity>;
}

type Handler = (req: Request, res: Response, identity: AdminIdentity) => Promise<void>;

/** /admin/v1: every call carries a bearer JWT; each route names the roles it accepts (deny by default). */
export function createAdminRouter(deps: AdminDeps): express.Router {
  const router = express.Router();
  const guarded = (roles: readonly Role[], handler: Handler) => async (req: Request, res: Response, _next: NextFunction) => {
    const identity = await deps.verifyToken(req.headers.authorization);
    requireRole(identity, roles);
    await handler(req, res, identity);
  };
  const body = express.raw({ type: () => true, limit: deps.config.admin?.maxBodyBytes ?? 16 * 1_048_576 });
  router.post('/scans', body, guarded(['scanner'], (req, res, who) => postScan(req, res, who, deps)));
  router.get('/scans/queue', guarded(['scanner', 'auditor'], (req, res) => getQueue(req, res, deps)));
  router.get('/scans/:digest', guarded(['scanner', 'auditor'], (req, res) => getScan(req, res, deps)));
  return router;
}
