import { jwtVerify } from 'jose';
import type { AdminConfig } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import { adminTokenKeys } from './token-keys.ts';

export type Role = 'admin' | 'key-manager' | 'scanner' | 'auditor';
const ROLES: ReadonlySet<string> = new Set<Role>(['admin', 'key-manager', 'scanner', 'auditor']);

/** Who called, as the verified token says. */
export interface AdminIdentity {
  readonly subject: string;
  readonly roles: readonly Role[];
}

/** Asymmetric algorithms only: `none` and HMAC are never accepted. */
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

/**
 * Verifies admin bearer tokens with jose against the configured JWKS, and the bootstrap key when
 * `admin.bootstrap` is on (token-keys.ts): signature, issuer, audience, expiry and not-before.
 * Roles come from a configured claim; unknown role names are ignored.
 */
export function createTokenVerifier(config: AdminConfig, logger: Logger = noopLogger): (authorization: string | undefined) => Promise<AdminIdentity> {
  const keys = adminTokenKeys(config, logger);
  return async (authorization) => {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
    if (match === null) throw unauthorized('a bearer token is required');
    try {
      const { payload } = await jwtVerify(match[1]!, keys, { issuer: config.issuer, audience: config.audience, algorithms: ALGORITHMS, requiredClaims: ['sub', 'exp'] });
      const claimed = payload[config.rolesClaim];
      const list = Array.isArray(claimed) ? claimed : typeof claimed === 'string' ? claimed.split(/[\s,]+/) : [];
      return { subject: String(payload.sub), roles: list.filter((r): r is Role => typeof r === 'string' && ROLES.has(r)) };
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
