// The pure half of loading a config: text in, a validated and compiled config out, with the
// secrets and files it names still unread (refs.ts). No fs, no environment, no network: the
// same text and source always give the same answer. references.ts does the reading.
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { assertShallowYaml } from '../input/yaml-depth.ts';
import { ConfigError } from '../input/config-error.ts';
import { fromZod } from '../input/zod-error.ts';
import { compilePattern } from '../oci/pattern.ts';
import { isWithin } from './paths.ts';
import { compilePullAuth, type ParsedPullAuth } from './pull-auth.ts';
import { configSchema, type ConfigFile } from './schema.ts';
import { secretRef, type SecretRef } from './refs.ts';
import {
  DEFAULT_BOOTSTRAP_DIR,
  type AdminConfig,
  type BlobCacheConfig,
  type Config,
  type NotificationsConfigOf,
  type SigstoreTufConfig,
} from './types.ts';
import { checkUnique, compileUpstream, type ParsedUpstream } from './upstreams.ts';

/** Values that replace fields of the file (the resolver takes them from TRUSTGATE_* variables). */
export interface EnvOverrides {
  readonly listen?: string;
  readonly redisUrl?: string;
  readonly logLevel?: string;
}

export interface ParseOptions {
  readonly overrides?: EnvOverrides;
}

/** A Config whose upstream credentials, upstream TLS files and pull signing key are still references. */
export interface ParsedConfig extends Omit<Config, 'upstreams' | 'pullAuth' | 'notifications'> {
  readonly upstreams: readonly ParsedUpstream[];
  readonly pullAuth: ParsedPullAuth | undefined;
  /** Webhook URLs and signing secrets still references. */
  readonly notifications: NotificationsConfigOf<SecretRef> | undefined;
}

/** Validates and compiles one YAML text. Throws ConfigError naming the field on any problem. Relative paths are relative to `source`. */
export function parseConfig(text: string, source: string, options: ParseOptions = {}): ParsedConfig {
  assertShallowYaml(text, source);
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new ConfigError(source, '', `not valid YAML at line ${first.linePos?.[0]?.line ?? '?'}: ${first.code}`);
  }
  let value: unknown;
  try {
    value = doc.toJS() ?? {};
  } catch (error) {
    // yaml throws (ReferenceError) on an alias bomb or an alias without its anchor: still just a bad file.
    throw new ConfigError(source, '', `not valid YAML: ${(error as Error).message}`);
  }
  const raw = applyOverrides(value, options.overrides ?? {});
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw fromZod(source, parsed.error);
  return deepFreeze(compile(parsed.data, source, writtenKeysDir(raw)));
}

/** `keys.dir` as the file (after overrides) wrote it, before the schema fills in its default: the checks at start tell the two apart. */
function writtenKeysDir(raw: unknown): string | undefined {
  const keys = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['keys'] : undefined;
  const dir = typeof keys === 'object' && keys !== null ? (keys as Record<string, unknown>)['dir'] : undefined;
  return typeof dir === 'string' ? dir : undefined;
}

// Overrides go in before validation, so a bad TRUSTGATE_LISTEN is named like a bad listen.address.
function applyOverrides(raw: unknown, overrides: EnvOverrides): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const section = (key: string): Record<string, unknown> => {
    const value = out[key];
    const copy = typeof value === 'object' && value !== null ? { ...(value as Record<string, unknown>) } : {};
    out[key] = copy;
    return copy;
  };
  if (overrides.listen !== undefined) section('listen')['address'] = overrides.listen;
  if (overrides.redisUrl !== undefined) section('redis')['url'] = overrides.redisUrl;
  if (overrides.logLevel !== undefined) section('log')['level'] = overrides.logLevel;
  return out;
}

function compile(file: ConfigFile, source: string, keysDirWritten: string | undefined): ParsedConfig {
  const baseDir = dirname(resolve(source));
  const { listen } = file;
  if (listen.tls === undefined && !listen.plainHttp) {
    throw new ConfigError(source, 'listen.tls', 'required: serve HTTPS with a certificate, or set listen.plainHttp: true explicitly');
  }
  if (listen.tls !== undefined && listen.plainHttp) {
    throw new ConfigError(source, 'listen.plainHttp', 'cannot be true when listen.tls is set');
  }
  const splitAt = listen.address.lastIndexOf(':');
  const host = listen.address.slice(0, splitAt).replace(/^\[|\]$/g, '');
  const upstreams = file.upstreams.map((u, i) => compileUpstream(u, `upstreams[${i}]`, source, baseDir, file.pullAuth !== undefined));
  checkUnique(upstreams, source);
  const keysDir = resolve(baseDir, file.keys.dir);
  return {
    source,
    listen: {
      host,
      port: Number(listen.address.slice(splitAt + 1)),
      ...(listen.tls === undefined
        ? {}
        : { tls: { certFile: resolve(baseDir, listen.tls.certFile), keyFile: resolve(baseDir, listen.tls.keyFile) } }),
      maxHeaderBytes: listen.maxHeaderBytes,
      headersTimeoutMs: listen.headersTimeoutMs,
      requestTimeoutMs: listen.requestTimeoutMs,
      keepAliveTimeoutMs: listen.keepAliveTimeoutMs,
      maxConnections: listen.maxConnections,
      shutdownGraceMs: listen.shutdownGraceMs,
    },
    log: file.log,
    redis: file.redis,
    manifests: file.manifests,
    blobCache: compileBlobCache(file, source, baseDir, keysDir),
    upstreams,
    policyFile: resolve(baseDir, file.policy.file),
    keysDir,
    keysDirWritten,
    gate: file.gate,
    admin: file.admin === undefined ? undefined : compileAdmin(file.admin, baseDir, keysDir, source),
    scans: file.scans,
    audit: file.audit,
    pullAuth: compilePullAuth(file.pullAuth, source, baseDir, host),
    trust: { sigstoreTuf: compileSigstoreTuf(file.trust.sigstoreTuf, baseDir, keysDir, source) },
    notifications: compileNotifications(file.notifications, baseDir, source),
  };
}

function compileBlobCache(file: ConfigFile, source: string, baseDir: string, keysDir: string): BlobCacheConfig {
  const cache = file.blobCache;
  const directory = resolve(baseDir, cache.directory);
  if (cache.failStatic && !cache.enabled)
    throw new ConfigError(source, 'blobCache.failStatic', 'needs blobCache.enabled: true (it serves from the cache)');
  if (cache.enabled && !file.gate.blobGate) {
    throw new ConfigError(
      source,
      'blobCache.enabled',
      'needs gate.blobGate: true: a cached blob is served only under an allowed manifest that names it',
    );
  }
  if (cache.enabled && isWithin(keysDir, directory)) {
    throw new ConfigError(source, 'blobCache.directory', `must be outside the trust store's keys.dir (${keysDir}): trustgate writes to it`);
  }
  return { enabled: cache.enabled, directory, maxBytes: cache.maxBytes, failStatic: cache.failStatic };
}

function compileSigstoreTuf(
  tuf: ConfigFile['trust']['sigstoreTuf'],
  baseDir: string,
  keysDir: string,
  source: string,
): SigstoreTufConfig | undefined {
  if (tuf === undefined) return undefined;
  const field = 'trust.sigstoreTuf';
  tuf.scopes?.forEach((scope, i) => {
    try {
      compilePattern(scope);
    } catch (error) {
      throw new ConfigError(source, `${field}.scopes[${i}]`, (error as Error).message);
    }
  });
  const cacheDir = resolve(baseDir, tuf.cacheDir);
  // keys/ holds declarations only (anything else there stops a reload); this directory is written to.
  if (isWithin(keysDir, cacheDir)) {
    throw new ConfigError(source, `${field}.cacheDir`, `must be outside the trust store's keys.dir (${keysDir}): trustgate writes to it`);
  }
  return {
    root: tuf.root,
    mirror: tuf.mirror.replace(/\/+$/, ''),
    initialRoot: resolve(baseDir, tuf.initialRoot),
    cacheDir,
    intervalMs: tuf.intervalMs,
    scopes: tuf.scopes,
    purposes: tuf.purposes,
  };
}

/** `notifications:` (docs/notifications.md): endpoint names unique (logs and metrics name endpoints by them), secrets left as references. */
function compileNotifications(
  section: ConfigFile['notifications'],
  baseDir: string,
  source: string,
): NotificationsConfigOf<SecretRef> | undefined {
  if (section === undefined) return undefined;
  const seen = new Set<string>();
  const endpoints = section.endpoints.map((e, i) => {
    const field = `notifications.endpoints[${i}]`;
    if (seen.has(e.name)) throw new ConfigError(source, `${field}.name`, `"${e.name}" is used by another endpoint: names must be unique`);
    seen.add(e.name);
    return {
      name: e.name,
      field,
      url: secretRef(e.url, `${field}.url`, baseDir),
      secret: e.secret === undefined ? undefined : secretRef(e.secret, `${field}.secret`, baseDir),
      format: e.format,
      events: e.events,
      timeoutMs: e.timeoutMs,
    };
  });
  if (section.queue.maxBackoffMs < section.queue.backoffMs)
    throw new ConfigError(source, 'notifications.queue.maxBackoffMs', 'must be at least notifications.queue.backoffMs');
  return { ...section, instance: section.instance, endpoints };
}

function compileAdmin(admin: NonNullable<ConfigFile['admin']>, baseDir: string, keysDir: string, source: string): AdminConfig {
  const { jwks, bootstrap, ...rest } = admin;
  // A dataDir in the file is relative to it; the default is relative to the working directory, as for `token mint`.
  const dataDir =
    bootstrap === undefined
      ? undefined
      : bootstrap.dataDir === undefined
        ? resolve(DEFAULT_BOOTSTRAP_DIR)
        : resolve(baseDir, bootstrap.dataDir);
  if (dataDir !== undefined && isWithin(keysDir, dataDir)) {
    throw new ConfigError(
      source,
      'admin.bootstrap.dataDir',
      `must be outside the trust store's keys.dir (${keysDir}): it holds a private key`,
    );
  }
  return {
    ...rest,
    ...(jwks === undefined ? {} : { jwks: jwks.file === undefined ? { url: jwks.url! } : { file: resolve(baseDir, jwks.file) } }),
    ...(dataDir === undefined ? {} : { bootstrap: { dataDir } }),
  };
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
