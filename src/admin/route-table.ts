import type { Request, RequestHandler, Response, Router } from 'express';
import type { AdminIdentity, Role } from './tokens.ts';

export type AdminHandler = (req: Request, res: Response, identity: AdminIdentity) => Promise<void>;

/** The admin router's guard: verifies the token, checks the roles (audits a refusal), then runs the handler. */
export type Guard = (roles: readonly Role[], handler: AdminHandler) => RequestHandler;

/** One admin route: who may call it, and what it does. */
export type AdminRoute = readonly [method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, roles: readonly Role[], AdminHandler];

/** Mounts a table of routes, each behind the guard. */
export function mountRoutes(router: Router, guarded: Guard, routes: readonly AdminRoute[]): void {
  for (const [method, path, roles, handler] of routes) router[method](path, guarded(roles, handler));
}
