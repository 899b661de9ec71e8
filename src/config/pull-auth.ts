import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { compilePattern, type ImagePattern } from '../oci/pattern.ts';
import { ConfigError } from '../input/config-error.ts';
import { Secret } from './secret.ts';

// The `pullAuth:` section (config/README.md, "pullAuth"). Absent: pulls are not authenticated.
const secretRef = z
  .strictObject({ env: z.string().min(1).optional(), file: z.string().min(1).optional() })
  .refine((ref) => (ref.env === undefined) !== (ref.file === undefined), 'give exactly one of "env" or "file"');
// Both go into a quoted WWW-Authenticate auth-param (RFC 9110 §11.2): no quotes, backslashes or controls.
const quotable = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export const pullAuthSchema = z
  .strictObject({
    signingKey: secretRef,
    issuer: z.string().min(1).max(256).default('trustgate'),
    service: z.string().max(256).regex(quotable, 'printable characters without spaces, quotes or backslashes').optional(),
    tokenTtlSeconds: z.number().int().min(60).max(86_400).default(300),
    realm: z
      .url({ protocol: /^https?$/ })
      .regex(quotable, 'no quotes, spaces or backslashes')
      .optional(),
    oidc: z
      .strictObject({
        issuer: z.string().min(1),
        jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
        jwksFile: z.string().min(1).optional(),
        audience: z.string().min(1),
        usernameClaim: z.string().min(1).default('sub'),
        grants: z.array(z.strictObject({ subject: z.string().min(1), repositories: z.array(z.string().min(1)).min(1) })).default([]),
      })
      .refine((o) => (o.jwksUrl === undefined) !== (o.jwksFile === undefined), 'give exactly one of "jwksUrl" or "jwksFile"')
      .optional(),
    rateLimit: z
      .strictObject({
        maxFailures: z.number().int().min(1).max(100_000).default(10),
        windowMs: z.number().int().min(1_000).default(60_000),
      })
      .default({ maxFailures: 10, windowMs: 60_000 }),
  })
  .optional();

export type PullAuthFile = z.infer<typeof pullAuthSchema>;

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

type Env = Readonly<Record<string, string | undefined>>;

export function compilePullAuth(
  file: PullAuthFile,
  source: string,
  baseDir: string,
  env: Env,
  listenHost: string,
): PullAuthConfig | undefined {
  if (file === undefined) return undefined;
  const oidc = file.oidc;
  return {
    signingKey: signingKey(file.signingKey, source, baseDir, env),
    issuer: file.issuer,
    service: file.service ?? listenHost,
    tokenTtlSeconds: file.tokenTtlSeconds,
    realm: file.realm,
    oidc:
      oidc === undefined
        ? undefined
        : {
            issuer: oidc.issuer,
            jwks: oidc.jwksUrl !== undefined ? { url: oidc.jwksUrl } : { file: jwksFile(resolve(baseDir, oidc.jwksFile!), source) },
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

/** Read and checked at start, so a replica with a missing or wrong key never serves. */
function signingKey(ref: { env?: string | undefined; file?: string | undefined }, source: string, baseDir: string, env: Env): Secret {
  const field = ref.env !== undefined ? 'pullAuth.signingKey.env' : 'pullAuth.signingKey.file';
  let pem: string;
  if (ref.env !== undefined) {
    const value = env[ref.env];
    if (value === undefined || value.trim() === '') throw new ConfigError(source, field, `environment variable ${ref.env} is not set`);
    pem = value;
  } else {
    try {
      pem = readFileSync(resolve(baseDir, ref.file!), 'utf8');
    } catch {
      throw new ConfigError(source, field, `cannot read "${ref.file}"`);
    }
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError(source, field, 'not an unencrypted PEM private key');
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new ConfigError(
      source,
      field,
      `must be an EC P-256 private key (this one is ${key.asymmetricKeyType ?? 'unknown'}${curve === undefined ? '' : ` ${curve}`})`,
    );
  }
  return new Secret(pem);
}

function jwksFile(path: string, source: string): string {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
  } catch (error) {
    throw new ConfigError(source, 'pullAuth.oidc.jwksFile', `cannot read a JWKS from "${path}" (${(error as Error).message})`);
  }
  return path;
}

function pattern(source: string, field: string, configSource: string): ImagePattern {
  try {
    return compilePattern(source);
  } catch (error) {
    throw new ConfigError(configSource, field, (error as Error).message);
  }
}
