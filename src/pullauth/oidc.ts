import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { PullOidcConfig } from '../config/pull-auth.ts';
import { TrustgateError } from '../errors/errors.ts';
import type { PullIdentity } from './identity.ts';

/** Asymmetric algorithms only: `none` and HMAC are never accepted. */
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

// jose's codes for "the issuer's keys could not be had", which is no fault of the client's token.
const UNAVAILABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JOSE_GENERIC']);

/**
 * Verifies an OIDC token presented as a password (e.g. a Kubernetes service-account token):
 * signature against the issuer's JWKS, issuer, audience and expiry. The identity is the
 * configured claim; its pull rights are the union of the grants whose subject pattern matches.
 * Undefined for a token that does not verify.
 */
export function createOidcVerifier(config: PullOidcConfig, now: () => number): (token: string) => Promise<PullIdentity | undefined> {
  const keys: JWTVerifyGetKey =
    config.jwks.file !== undefined
      ? createLocalJWKSet(JSON.parse(readFileSync(config.jwks.file, 'utf8')))
      : createRemoteJWKSet(new URL(config.jwks.url!));
  const grants = config.grants.map((g) => ({ matches: subjectMatcher(g.subject), repositories: g.repositories }));
  return async (token) => {
    let claim: unknown;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        currentDate: new Date(now()),
      });
      claim = payload[config.usernameClaim];
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || UNAVAILABLE.has(code)) {
        throw new TrustgateError('UPSTREAM_UNREACHABLE', "the OIDC issuer's keys could not be fetched; try again", { cause: error });
      }
      return undefined;
    }
    if (typeof claim !== 'string' || claim === '') return undefined;
    const patterns = grants.filter((g) => g.matches(claim)).flatMap((g) => g.repositories);
    return { subject: `oidc:${claim}`, patterns };
  };
}

/** `*` matches any run of characters within one `:`-separated segment; everything else is literal. */
export function subjectMatcher(pattern: string): (subject: string) => boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^:]*');
  const regex = new RegExp(`^${source}$`);
  return (subject) => regex.test(subject);
}
