import { jwtVerify } from 'jose';
import type { AdminConfig } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { compilePattern } from '../oci/pattern.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import { adminTokenKeys } from './token-keys.ts';

export type Role = 'admin' | 'key-manager' | 'scanner' | 'auditor';
const ROLES: ReadonlySet<string> = new Set<Role>(['admin', 'key-manager', 'scanner', 'auditor']);

/** Who called, as the verified token says. */
export interface AdminIdentity {
  readonly subject: string;
  /** Role names held, scoped or not (what requireRole checks). */
  readonly roles: readonly Role[];
  /** The image patterns a role is limited to; a role absent here is unscoped (admin is never scoped). */
  readonly scopes: Readonly<Partial<Record<Role, readonly string[]>>>;
}

/**
 * The roles claim's entries: `"<role>"` (unscoped) or `"<role>@<image pattern>"` (scoped to that
 * pattern; several entries add patterns). A role held unscoped too is unscoped. Unknown roles,
 * invalid patterns and `admin@…` are ignored: they grant nothing.
 */
export function parseRoleClaims(entries: readonly unknown[]): { roles: Role[]; scopes: Partial<Record<Role, string[]>> } {
  const unscoped = new Set<Role>();
  const scoped = new Map<Role, string[]>();
  for (const raw of entries) {
    if (typeof raw !== 'string') continue;
    const at = raw.indexOf('@');
    const name = at < 0 ? raw : raw.slice(0, at);
    if (!ROLES.has(name)) continue;
    const role = name as Role;
    if (at < 0) {
      unscoped.add(role);
      continue;
    }
    const pattern = raw.slice(at + 1);
    if (role === 'admin' || !validPattern(pattern)) continue;
    const list = scoped.get(role) ?? [];
    if (!list.includes(pattern)) list.push(pattern);
    scoped.set(role, list);
  }
  const roles = [...unscoped, ...[...scoped.keys()].filter((r) => !unscoped.has(r))];
  const scopes: Partial<Record<Role, string[]>> = {};
  for (const [role, list] of scoped) if (!unscoped.has(role)) scopes[role] = list;
  return { roles, scopes };
}

function validPattern(pattern: string): boolean {
  try {
    compilePattern(pattern);
    return pattern.includes('/');
  } catch {
    return false;
  }
}

/** The patterns `role` is limited to for this identity, or undefined when it is unscoped (or the identity is admin). */
export function scopeOf(identity: AdminIdentity, role: Role): readonly string[] | undefined {
  if (identity.roles.includes('admin')) return undefined;
  return identity.scopes[role];
}

/** Asymmetric algorithms only: `none` and HMAC are never accepted. */
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

/**
 * Verifies admin bearer tokens with jose against the configured JWKS, and the bootstrap key when
 * `admin.bootstrap` is on (token-keys.ts): signature, issuer, audience, expiry and not-before.
 * Roles come from a configured claim; unknown role names are ignored.
 */
export function createTokenVerifier(
  config: AdminConfig,
  logger: Logger = noopLogger,
): (authorization: string | undefined) => Promise<AdminIdentity> {
  const keys = adminTokenKeys(config, logger);
  return async (authorization) => {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
    if (match === null) throw unauthorized('a bearer token is required');
    try {
      const { payload } = await jwtVerify(match[1]!, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['sub', 'exp'],
      });
      const claimed = payload[config.rolesClaim];
      const list = Array.isArray(claimed) ? claimed : typeof claimed === 'string' ? claimed.split(/[\s,]+/) : [];
      return { subject: String(payload.sub), ...parseRoleClaims(list) };
    } catch (error) {
      // jose's codes say why (expired, wrong audience…) without echoing the token.
      throw unauthorized(`the token was refused (${(error as { code?: string }).code ?? 'ERR_JWT_INVALID'})`);
    }
  };
}

/** Deny by default: the identity needs one of the roles (admin holds every role). */
export function requireRole(identity: AdminIdentity, allowed: readonly Role[]): void {
  if (identity.roles.includes('admin') || identity.roles.some((r) => allowed.includes(r))) return;
  throw new TrustgateError('DENIED', `this needs the role ${allowed.map((r) => `"${r}"`).join(' or ')}`);
}

function unauthorized(message: string): TrustgateError {
  return new TrustgateError('UNAUTHORIZED', message, { headers: { 'www-authenticate': 'Bearer realm="trustgate-admin"' } });
}
