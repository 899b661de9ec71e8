import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { assertShallowYaml } from '../input/yaml-depth.ts';
import { ConfigError } from '../input/config-error.ts';
import { fromZod } from '../input/zod-error.ts';
import { configSchema, type ConfigFile } from './schema.ts';
import { checkUnique, compileUpstream } from './upstreams.ts';
import { compilePullAuth } from './pull-auth.ts';
import { DEFAULT_BOOTSTRAP_DIR, type AdminConfig, type Config } from './types.ts';

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
    admin: file.admin === undefined ? undefined : compileAdmin(file.admin, baseDir, resolve(baseDir, file.keys.dir), source),
    scans: file.scans,
    audit: file.audit,
    pullAuth: compilePullAuth(file.pullAuth, source, baseDir, env, listen.address.slice(0, splitAt).replace(/^\[|\]$/g, '')),
  });
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
  const inKeys = dataDir === undefined ? '..' : relative(keysDir, dataDir);
  if (inKeys === '' || !(inKeys.startsWith('..') || isAbsolute(inKeys))) {
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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
