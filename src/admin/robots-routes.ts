import type { Request, Response, Router } from 'express';
import type { AuditLog } from '../audit/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { printable } from '../oci/reference.ts';
import { compilePattern } from '../oci/pattern.ts';
import { hashSecret, newRobotSecret } from '../pullauth/robot-secret.ts';
import { ROBOT_NAME, ROBOT_NAME_MAX, type RobotRecord, type RobotStore } from '../pullauth/robots.ts';
import { audited } from './audit-calls.ts';
import { readJsonBody } from './json-body.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import { requireWithin } from './scope.ts';
import type { AdminIdentity, Role } from './tokens.ts';

export interface RobotRoutesDeps {
  readonly robots: RobotStore;
  readonly audit: AuditLog;
  readonly now: () => number;
}

const ROLES: readonly Role[] = ['key-manager']; // and admin, which holds every role
const MAX_PATTERNS = 100;

/**
 * /admin/v1/robots: create (the secret is in the 201 answer and nowhere else, ever: not stored,
 * not logged, not audited), list (no secrets, no hashes) and revoke robot accounts for pull-side
 * access control. Changes are audited as robot.add and robot.revoke.
 */
export function registerRobotRoutes(router: Router, guarded: Guard, deps: RobotRoutesDeps): void {
  mountRoutes(router, guarded, [
    ['post', '/robots', ROLES, (req, res, who) => createRobot(req, res, who, deps)],
    ['get', '/robots', ROLES, (_req, res) => listRobots(res, deps)],
    ['delete', '/robots/:name', ROLES, (req, res, who) => revokeRobot(req, res, who, deps)],
  ]);
}

async function createRobot(req: Request, res: Response, who: AdminIdentity, deps: RobotRoutesDeps): Promise<void> {
  let secret = '';
  const change = await audited(deps.audit, req, who, async (note) => {
    const body = await readJsonBody(req, res);
    if (typeof body['name'] === 'string' && ROBOT_NAME.test(body['name'])) note.target = body['name'];
    const { name, repositories } = parseBody(body);
    requireWithin(who, 'key-manager', repositories, "the robot's repository");
    secret = newRobotSecret();
    const record: RobotRecord = { name, ...(await hashSecret(secret)), repositories, createdAt: deps.now() };
    if (!(await store(() => deps.robots.create(record))))
      throw new TrustgateError('CONFLICT', `a robot named "${name}" already exists; revoke it first`);
    return { target: name, after: view(record) };
  });
  res.status(201).json({ ...(change.after as object), secret });
}

async function listRobots(res: Response, deps: RobotRoutesDeps): Promise<void> {
  const robots = await store(() => deps.robots.list());
  res.json({ robots: robots.sort((a, b) => a.name.localeCompare(b.name)).map(view) });
}

async function revokeRobot(req: Request, res: Response, who: AdminIdentity, deps: RobotRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async () => {
    const name = String(req.params['name']);
    const before = ROBOT_NAME.test(name) ? await store(() => deps.robots.get(name)) : undefined;
    const at = deps.now();
    if (before !== undefined && before.revokedAt === undefined)
      requireWithin(who, 'key-manager', before.repositories, "the robot's repository");
    if (before === undefined || before.revokedAt !== undefined || !(await store(() => deps.robots.revoke(name, at)))) {
      throw new TrustgateError('NOT_FOUND', `no active robot named "${printable(name, 64)}"`);
    }
    return { target: name, before: view(before), after: view({ ...before, revokedAt: at }) };
  });
  res.json(change.after);
}

/** What anyone may see of a robot: never its secret or hash. */
function view(r: RobotRecord): object {
  return {
    name: r.name,
    repositories: r.repositories,
    createdAt: new Date(r.createdAt).toISOString(),
    ...(r.revokedAt === undefined ? {} : { revokedAt: new Date(r.revokedAt).toISOString() }),
  };
}

function parseBody(body: Record<string, unknown>): { name: string; repositories: string[] } {
  const { name, repositories } = body;
  if (typeof name !== 'string' || name.length > ROBOT_NAME_MAX || !ROBOT_NAME.test(name)) {
    throw new TrustgateError(
      'BAD_REQUEST',
      `"name" must be lowercase letters and digits, separated by ".", "_" or "-" (at most ${ROBOT_NAME_MAX})`,
    );
  }
  if (
    !Array.isArray(repositories) ||
    repositories.length === 0 ||
    repositories.length > MAX_PATTERNS ||
    !repositories.every((p) => typeof p === 'string')
  ) {
    throw new TrustgateError('BAD_REQUEST', `"repositories" must list 1 to ${MAX_PATTERNS} patterns over canonical names`);
  }
  for (const pattern of repositories as string[]) {
    try {
      compilePattern(pattern);
    } catch (error) {
      throw new TrustgateError('BAD_REQUEST', `"repositories": ${(error as Error).message}`);
    }
  }
  return { name, repositories: repositories as string[] };
}

async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw new TrustgateError('STORE_UNAVAILABLE', 'the robot store (redis) is unavailable; try again', { cause: error });
  }
}
