import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { assertShallowYaml } from './yaml-depth.ts';
import { compilePattern, patternHost } from '../policy/pattern.ts';
import { ConfigError } from './config-error.ts';
import { fromZod } from './zod-error.ts';
import { configSchema, type ConfigFile, type UpstreamFile } from './schema.ts';
import { Secret } from './secret.ts';
import { compilePullAuth } from './pull-auth.ts';
import type { AdminConfig, Config, UpstreamConfig, UpstreamCredentials } from './types.ts';
import { DEFAULT_BOOTSTRAP_DIR } from '../admin/bootstrap-key.ts';

export interface EnvOverrides {
  readonly listen?: string;
  readonly redisUrl?: string;
  readonly logLevel?: string;
}

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly overrides?: EnvOverrides;
}

/** Reads, validates and compiles one YAML file. Throws ConfigError naming the field on any problem. */
export function loadConfig(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, '', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseConfig(text, path, options);
}

export function parseConfig(text: string, source: string, options: LoadOptions = {}): Config {
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
  return compile(parsed.data, source, options.env ?? {});
}

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

function compile(file: ConfigFile, source: string, env: Readonly<Record<string, string | undefined>>): Config {
  const baseDir = dirname(resolve(source));
  const { listen } = file;
  if (listen.tls === undefined && !listen.plainHttp) {
    throw new ConfigError(source, 'listen.tls', 'required: serve HTTPS with a certificate, or set listen.plainHttp: true explicitly');
  }
  if (listen.tls !== undefined && listen.plainHttp) {
    throw new ConfigError(source, 'listen.plainHttp', 'cannot be true when listen.tls is set');
  }
  const splitAt = listen.address.lastIndexOf(':');
  const upstreams = file.upstreams.map((u, i) => compileUpstream(u, `upstreams[${i}]`, source, baseDir, env, file.pullAuth !== undefined));
  checkUnique(upstreams, source);
  return deepFreeze({
    source,
    listen: {
      host: listen.address.slice(0, splitAt).replace(/^\[|\]$/g, ''),
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
    upstreams,
    policyFile: resolve(baseDir, file.policy.file),
    keysDir: resolve(baseDir, file.keys.dir),
    gate: file.gate,
    admin:
      file.admin === undefined
        ? undefined
        : compileAdmin(file.admin, baseDir, resolve(baseDir, file.keys.dir), source),
    scans: file.scans,
    audit: file.audit,
    pullAuth: compilePullAuth(file.pullAuth, source, baseDir, env, listen.address.slice(0, splitAt).replace(/^\[|\]$/g, '')),
  });
}

function compileAdmin(admin: NonNullable<ConfigFile['admin']>, baseDir: string, keysDir: string, source: string): AdminConfig {
  const { jwks, bootstrap, ...rest } = admin;
  // A dataDir in the file is relative to it; the default is relative to the working directory, as for `token mint`.
  const dataDir = bootstrap === undefined ? undefined : bootstrap.dataDir === undefined ? resolve(DEFAULT_BOOTSTRAP_DIR) : resolve(baseDir, bootstrap.dataDir);
  const inKeys = dataDir === undefined ? '..' : relative(keysDir, dataDir);
  if (inKeys === '' || !(inKeys.startsWith('..') || isAbsolute(inKeys))) {
    throw new ConfigError(source, 'admin.bootstrap.dataDir', `must be outside the trust store's keys.dir (${keysDir}): it holds a private key`);
  }
  return {
    ...rest,
    ...(jwks === undefined ? {} : { jwks: jwks.file === undefined ? { url: jwks.url! } : { file: resolve(baseDir, jwks.file) } }),
    ...(dataDir === undefined ? {} : { bootstrap: { dataDir } }),
  };
}

function compileUpstream(
  u: UpstreamFile,
  field: string,
  source: string,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
  pullAuth = false,
): UpstreamConfig {
  const url = new URL(u.url);
  const registryHost = u.registryHost ?? url.host;
  const allow = u.repositories.map((pattern, j) => {
    const where = `${field}.repositories[${j}]`;
    if (patternHost(pattern) !== registryHost) {
      throw new ConfigError(source, where, `"${pattern}" must start with this upstream's registry host "${registryHost}/"`);
    }
    try {
      return compilePattern(pattern);
    } catch (error) {
      throw new ConfigError(source, where, (error as Error).message);
    }
  });
  // With pullAuth on only authenticated clients pull, so the upstream's credentials are never lent to anonymous ones.
  if (u.auth.type !== 'anonymous' && !u.allowAnonymousPulls && !pullAuth) {
    throw new ConfigError(
      source,
      `${field}.allowAnonymousPulls`,
      'this upstream has credentials, so anonymous clients would pull private repositories on trustgate\'s identity; set allowAnonymousPulls: true to accept that',
    );
  }
  const readFile = (path: string | undefined, key: string): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(resolve(baseDir, path));
    } catch {
      throw new ConfigError(source, `${field}.tls.${key}`, `cannot read "${path}"`);
    }
  };
  return {
    name: u.name,
    url: url.href.replace(/\/+$/, ''),
    registryHost,
    namespaces: [registryHost, ...u.aliases],
    isDefault: u.default,
    allow,
    credentials: compileCredentials(u.auth, `${field}.auth`, source, baseDir, env),
    tokenRealms: u.tokenRealms,
    tls: dropUndefined({ ca: readFile(u.tls.caFile, 'caFile'), cert: readFile(u.tls.certFile, 'certFile'), key: readFile(u.tls.keyFile, 'keyFile') }),
    timeouts: u.timeouts,
    retries: u.retries,
    maxConcurrentRequests: u.maxConcurrentRequests,
    blobRedirects: u.blobRedirects,
  };
}

function compileCredentials(
  auth: UpstreamFile['auth'],
  field: string,
  source: string,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
): UpstreamCredentials {
  const secret = (ref: { env?: string | undefined; file?: string | undefined }, key: string): Secret => {
    if (ref.env !== undefined) {
      const value = env[ref.env];
      if (value === undefined || value === '') throw new ConfigError(source, `${field}.${key}.env`, `environment variable ${ref.env} is not set`);
      return new Secret(value);
    }
    try {
      return new Secret(readFileSync(resolve(baseDir, ref.file!), 'utf8').trim());
    } catch {
      throw new ConfigError(source, `${field}.${key}.file`, `cannot read "${ref.file}"`);
    }
  };
  switch (auth.type) {
    case 'anonymous':
      return { type: 'anonymous' };
    case 'basic':
      return { type: 'basic', username: auth.username, password: secret(auth.password, 'password') };
    case 'bearer':
      return { type: 'bearer', token: secret(auth.token, 'token') };
  }
}

function checkUnique(upstreams: readonly UpstreamConfig[], source: string): void {
  const names = new Set<string>();
  const namespaces = new Map<string, string>();
  upstreams.forEach((u, i) => {
    if (names.has(u.name)) throw new ConfigError(source, `upstreams[${i}].name`, `duplicate upstream name "${u.name}"`);
    names.add(u.name);
    for (const ns of u.namespaces) {
      const other = namespaces.get(ns);
      if (other !== undefined) throw new ConfigError(source, `upstreams[${i}].registryHost`, `registry host "${ns}" is already served by upstream "${other}"`);
      namespaces.set(ns, u.name);
    }
  });
  if (upstreams.filter((u) => u.isDefault).length > 1) {
    throw new ConfigError(source, 'upstreams', 'at most one upstream may set default: true');
  }
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
