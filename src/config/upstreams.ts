// Compiles the `upstreams` section: each upstream's URL, allowlist, credentials and TLS material, and checks
// that names and registry hosts are unique.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compilePattern, patternHost } from '../oci/pattern.ts';
import { ConfigError } from '../input/config-error.ts';
import type { UpstreamFile } from './schema.ts';
import { Secret } from './secret.ts';
import type { UpstreamConfig, UpstreamCredentials } from './types.ts';

export function compileUpstream(
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
      "this upstream has credentials, so anonymous clients would pull private repositories on trustgate's identity; set allowAnonymousPulls: true to accept that",
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
    tls: dropUndefined({
      ca: readFile(u.tls.caFile, 'caFile'),
      cert: readFile(u.tls.certFile, 'certFile'),
      key: readFile(u.tls.keyFile, 'keyFile'),
    }),
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
      if (value === undefined || value === '')
        throw new ConfigError(source, `${field}.${key}.env`, `environment variable ${ref.env} is not set`);
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

export function checkUnique(upstreams: readonly UpstreamConfig[], source: string): void {
  const names = new Set<string>();
  const namespaces = new Map<string, string>();
  upstreams.forEach((u, i) => {
    if (names.has(u.name)) throw new ConfigError(source, `upstreams[${i}].name`, `duplicate upstream name "${u.name}"`);
    names.add(u.name);
    for (const ns of u.namespaces) {
      const other = namespaces.get(ns);
      if (other !== undefined)
        throw new ConfigError(source, `upstreams[${i}].registryHost`, `registry host "${ns}" is already served by upstream "${other}"`);
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
