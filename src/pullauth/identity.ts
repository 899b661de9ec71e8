import { compilePattern, type ImagePattern } from '../oci/pattern.ts';
import { secretMatches } from './robot-secret.ts';
import type { RobotStore } from './robots.ts';

/** Who a token is for, and the canonical-name patterns they may pull. */
export interface PullIdentity {
  /** `robot:<name>` or `oidc:<claim>`: the two kinds never share a name. */
  readonly subject: string;
  readonly patterns: readonly ImagePattern[];
}

export interface AuthenticatorDeps {
  readonly robots: RobotStore;
  /** Present when `pullAuth.oidc` is configured. */
  readonly oidc?: ((token: string) => Promise<PullIdentity | undefined>) | undefined;
}

// A compact JWS: three base64url parts. Robot secrets never look like this (no dots).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Basic credentials to an identity. A password shaped like a JWT goes to the OIDC verifier (any
 * username), when one is configured; anything else is a robot's name and secret. Undefined for
 * bad credentials, with nothing said about which part was wrong.
 */
export function createAuthenticator(deps: AuthenticatorDeps): (username: string, password: string) => Promise<PullIdentity | undefined> {
  return async (username, password) => {
    if (deps.oidc !== undefined && COMPACT_JWS.test(password)) return deps.oidc(password);
    const record = await deps.robots.get(username);
    const active = record !== undefined && record.revokedAt === undefined ? record : undefined;
    // Unknown and revoked robots cost the same scrypt and compare as real ones.
    if (!(await secretMatches(password, active))) return undefined;
    return { subject: `robot:${active!.name}`, patterns: compileAll(active!.repositories) };
  };
}

/** A stored pattern that no longer compiles grants nothing (fail closed). */
function compileAll(patterns: readonly string[]): ImagePattern[] {
  return patterns.flatMap((p) => {
    try {
      return [compilePattern(p)];
    } catch {
      return [];
    }
  });
}
