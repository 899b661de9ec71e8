// Compiles the `pullAuth:` section (config/README.md, "pullAuth"; its schema is in schema.ts).
// Absent: pulls are not authenticated. The signing key and a JWKS file are only named here;
// references.ts reads and checks them.
import { resolve } from 'node:path';
import { compilePattern, type ImagePattern } from '../oci/pattern.ts';
import { ConfigError } from '../input/config-error.ts';
import { secretRef, type SecretRef } from './refs.ts';
import type { PullAuthFile } from './schema.ts';
import type { Secret } from './secret.ts';

export interface PullOidcConfig {
  readonly issuer: string;
  readonly jwks: { readonly url?: string; readonly file?: string };
  readonly audience: string;
  readonly usernameClaim: string;
  /** Subject pattern (`*` within one `:`-separated segment) → canonical-name patterns. */
  readonly grants: readonly { readonly subject: string; readonly repositories: readonly ImagePattern[] }[];
}

export interface PullAuthConfig {
  /** PEM of the EC P-256 private key every replica signs and verifies pull tokens with. */
  readonly signingKey: Secret;
  readonly issuer: string;
  /** The token audience and the `service` of the challenge. */
  readonly service: string;
  readonly tokenTtlSeconds: number;
  /** Absolute token endpoint URL; undefined: derived from each request's scheme and Host. */
  readonly realm: string | undefined;
  readonly oidc: PullOidcConfig | undefined;
  readonly rateLimit: { readonly maxFailures: number; readonly windowMs: number };
}

/** A PullAuthConfig whose signing key is still a reference (and whose JWKS file is not read yet). */
export interface ParsedPullAuth extends Omit<PullAuthConfig, 'signingKey'> {
  readonly signingKey: SecretRef;
}

export function compilePullAuth(file: PullAuthFile, source: string, baseDir: string, listenHost: string): ParsedPullAuth | undefined {
  if (file === undefined) return undefined;
  const oidc = file.oidc;
  return {
    signingKey: secretRef(file.signingKey, 'pullAuth.signingKey', baseDir),
    issuer: file.issuer,
    service: file.service ?? listenHost,
    tokenTtlSeconds: file.tokenTtlSeconds,
    realm: file.realm,
    oidc:
      oidc === undefined
        ? undefined
        : {
            issuer: oidc.issuer,
            jwks: oidc.jwksUrl !== undefined ? { url: oidc.jwksUrl } : { file: resolve(baseDir, oidc.jwksFile!) },
            audience: oidc.audience,
            usernameClaim: oidc.usernameClaim,
            grants: oidc.grants.map((g, i) => ({
              subject: g.subject,
              repositories: g.repositories.map((p, j) => pattern(p, `pullAuth.oidc.grants[${i}].repositories[${j}]`, source)),
            })),
          },
    rateLimit: file.rateLimit,
  };
}

function pattern(source: string, field: string, configSource: string): ImagePattern {
  try {
    return compilePattern(source);
  } catch (error) {
    throw new ConfigError(configSource, field, (error as Error).message);
  }
}
