import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, jwtVerify, SignJWT } from 'jose';
import type { PullAuthConfig } from '../config/pull-auth.ts';

/**
 * One granted pull: the repository name as the client wrote it (Docker's `access` entry), and the
 * canonical names it may reach that way. Enforcement checks the canonical name a request actually
 * resolves to (its `ns` included), so a grant never stretches to another registry's repository.
 */
export interface PullGrant {
  readonly name: string;
  readonly canonical: readonly string[];
}

export interface VerifiedPullToken {
  readonly subject: string;
  readonly grants: readonly PullGrant[];
}

export interface PullTokens {
  issue(subject: string, grants: readonly PullGrant[]): Promise<{ token: string; issuedAt: number; expiresIn: number }>;
  /** Throws (a jose error) when the token is not one of ours, is expired or is malformed. */
  verify(token: string): Promise<VerifiedPullToken>;
}

/**
 * ES256 JWTs signed with the key every replica shares (Docker token spec, token.md): iss, sub,
 * aud = the service, iat, exp, jti, and `access` listing only the granted pulls. Only ES256 is
 * accepted back, so neither `none` nor an HMAC keyed with the public key can pass.
 */
export async function createPullTokens(config: PullAuthConfig, now: () => number): Promise<PullTokens> {
  const privateKey: KeyObject = createPrivateKey(config.signingKey.reveal());
  const publicKey = createPublicKey(privateKey);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return {
    async issue(subject, grants) {
      const issuedAt = Math.floor(now() / 1000);
      const access = grants.map((g) => ({ type: 'repository', name: g.name, actions: ['pull'], canonical: g.canonical }));
      const token = await new SignJWT({ access })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
        .setIssuer(config.issuer)
        .setSubject(subject)
        .setAudience(config.service)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + config.tokenTtlSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
      return { token, issuedAt: issuedAt * 1000, expiresIn: config.tokenTtlSeconds };
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, publicKey, {
        algorithms: ['ES256'],
        issuer: config.issuer,
        audience: config.service,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: new Date(now()),
      });
      return { subject: String(payload.sub), grants: grantsOf(payload['access']) };
    },
  };
}

/** Only well-formed repository pull entries count; anything else in `access` grants nothing. */
function grantsOf(access: unknown): PullGrant[] {
  if (!Array.isArray(access)) return [];
  return access.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { type, name, actions, canonical } = entry as Record<string, unknown>;
    if (type !== 'repository' || typeof name !== 'string' || !Array.isArray(actions) || !actions.includes('pull')) return [];
    if (!Array.isArray(canonical) || !canonical.every((c) => typeof c === 'string')) return [];
    return [{ name, canonical: canonical as string[] }];
  });
}
