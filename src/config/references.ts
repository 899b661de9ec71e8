// The reading half of loading a config: the secrets and files a parsed config names (refs.ts) are
// read here, from the environment map given and the filesystem, and checked; the result is the
// Config the rest of trustgate runs on. Errors name the field, as parseConfig's do.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../input/config-error.ts';
import { deepFreeze, type ParsedConfig } from './parse.ts';
import type { ParsedPullAuth, PullAuthConfig } from './pull-auth.ts';
import type { FileRef, SecretRef } from './refs.ts';
import { fileSecret } from './file-secret.ts';
import { Secret } from './secret.ts';
import type { Config, NotificationsConfig, NotificationsConfigOf, UpstreamConfig, UpstreamCredentials } from './types.ts';
import type { ParsedUpstream } from './upstreams.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads every secret and file `parsed` names. Throws ConfigError naming the field of the first one missing or wrong. */
export function readReferences(parsed: ParsedConfig, env: Env): Config {
  const { source } = parsed;
  const tuf = parsed.trust.sigstoreTuf;
  if (tuf !== undefined) checkTufRoot(tuf.initialRoot, source);
  return deepFreeze({
    ...parsed,
    upstreams: parsed.upstreams.map((u) => readUpstream(u, source, env)),
    pullAuth: parsed.pullAuth === undefined ? undefined : readPullAuth(parsed.pullAuth, source, env),
    notifications: parsed.notifications === undefined ? undefined : readNotifications(parsed.notifications, source, env),
  });
}

function readUpstream(u: ParsedUpstream, source: string, env: Env): UpstreamConfig {
  const secret = (ref: SecretRef): Secret => {
    const text = readText(ref, source, env);
    if ('env' in ref) return new Secret(text);
    // A secret file is trimmed (a trailing newline is never part of a password or token) and read
    // again when it changes, so rotated cloud tokens need no restart (docs/presets.md "Credentials").
    return fileSecret(ref.file, text.trim());
  };
  const credentials: UpstreamCredentials =
    u.credentials.type === 'basic'
      ? { type: 'basic', username: u.credentials.username, password: secret(u.credentials.password) }
      : u.credentials.type === 'bearer'
        ? { type: 'bearer', token: secret(u.credentials.token) }
        : { type: 'anonymous' };
  const file = (ref: FileRef | undefined): Buffer | undefined => (ref === undefined ? undefined : readBytes(ref, source));
  const [ca, cert, key] = [file(u.tls.ca), file(u.tls.cert), file(u.tls.key)];
  return {
    ...u,
    credentials,
    tls: { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) },
  };
}

/** The signing key is read and checked at start, so a replica with a missing or wrong key never serves. */
function readPullAuth(pullAuth: ParsedPullAuth, source: string, env: Env): PullAuthConfig {
  const ref = pullAuth.signingKey;
  const pem = readText(ref, source, env);
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError(source, ref.field, 'not an unencrypted PEM private key');
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new ConfigError(
      source,
      ref.field,
      `must be an EC P-256 private key (this one is ${key.asymmetricKeyType ?? 'unknown'}${curve === undefined ? '' : ` ${curve}`})`,
    );
  }
  const jwksFile = pullAuth.oidc?.jwks.file;
  if (jwksFile !== undefined) checkJwksFile(jwksFile, source);
  return { ...pullAuth, signingKey: new Secret(pem) };
}

/** Plain http only to a loopback host (a receiver beside trustgate, or a test); https elsewhere. */
const LOOPBACK_HOST = /^(127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/;

/**
 * Webhook URLs and signing secrets (docs/notifications.md). A URL is a secret (Slack's path holds
 * its token), so no error here ever repeats it: only the field and what is wrong.
 */
function readNotifications(n: NotificationsConfigOf<SecretRef>, source: string, env: Env): NotificationsConfig {
  return {
    ...n,
    endpoints: n.endpoints.map((e) => {
      const text = readText(e.url, source, env).trim();
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new ConfigError(source, e.url.field, 'not an absolute URL');
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname)))
        throw new ConfigError(source, e.url.field, 'must be https:// (plain http only to a loopback address)');
      if (url.username !== '' || url.password !== '') throw new ConfigError(source, e.url.field, 'no credentials before the host');
      if (url.hash !== '') throw new ConfigError(source, e.url.field, 'no fragment');
      let secret: Secret | undefined;
      if (e.secret !== undefined) {
        const key = readText(e.secret, source, env).trim();
        if (key.length < 16)
          throw new ConfigError(source, e.secret.field, 'at least 16 characters (32 random bytes, hex or base64, is the advice)');
        secret = new Secret(key);
      }
      return { ...e, url: new Secret(url.href), secret };
    }),
  };
}

/** A secret's text. An unset or blank variable is an error naming the variable, never a value. */
function readText(ref: SecretRef, source: string, env: Env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value.trim() === '') throw new ConfigError(source, ref.field, `environment variable ${ref.env} is not set`);
    return value;
  }
  try {
    return readFileSync(ref.file, 'utf8');
  } catch {
    throw new ConfigError(source, ref.field, `cannot read "${ref.written}"`);
  }
}

function readBytes(ref: FileRef, source: string): Buffer {
  try {
    return readFileSync(ref.file);
  } catch {
    throw new ConfigError(source, ref.field, `cannot read "${ref.written}"`);
  }
}

/** The JWKS file stays a path (the verifier reads it); here it must hold a `keys` array. */
function checkJwksFile(path: string, source: string): void {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
  } catch (error) {
    throw new ConfigError(source, 'pullAuth.oidc.jwksFile', `cannot read a JWKS from "${path}" (${(error as Error).message})`);
  }
}

/** The pinned TUF root stays a path (the TUF client copies it into an empty cache); here it must read as a TUF root.json. */
function checkTufRoot(path: string, source: string): void {
  const field = 'trust.sigstoreTuf.initialRoot';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(source, field, `cannot read "${path}"`);
  }
  let doc: { signed?: { _type?: unknown; version?: unknown }; signatures?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new ConfigError(source, field, `"${path}" is not JSON`);
  }
  const signed = typeof doc === 'object' && doc !== null ? doc.signed : undefined;
  const version = signed?.version;
  if (
    signed?._type !== 'root' ||
    !Array.isArray(doc.signatures) ||
    typeof version !== 'number' ||
    !Number.isInteger(version) ||
    version < 1
  ) {
    throw new ConfigError(source, field, `"${path}" is not a TUF root.json (signed._type "root", a version, signatures)`);
  }
}
