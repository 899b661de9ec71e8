// Compiles the `upstreams` section: each upstream's URL, allowlist, and the references to its
// credentials and TLS material (read later, by references.ts), and checks that names and registry
// hosts are unique. No I/O here.
import { resolve } from 'node:path';
import { compilePattern, patternHost } from '../oci/pattern.ts';
import { ConfigError } from '../input/config-error.ts';
import { presetValues } from './presets.ts';
import { secretRef, type FileRef, type SecretRef } from './refs.ts';
import type { UpstreamFile } from './schema.ts';
import type { UpstreamConfig } from './types.ts';

export type CredentialRefs =
  | { readonly type: 'anonymous' }
  | { readonly type: 'basic'; readonly username: string; readonly password: SecretRef }
  | { readonly type: 'bearer'; readonly token: SecretRef };

/** An UpstreamConfig whose credentials and TLS files are still references. */
export interface ParsedUpstream extends Omit<UpstreamConfig, 'credentials' | 'tls'> {
  readonly credentials: CredentialRefs;
  readonly tls: { readonly ca?: FileRef; readonly cert?: FileRef; readonly key?: FileRef };
}

export function compileUpstream(u: UpstreamFile, field: string, source: string, baseDir: string, pullAuth = false): ParsedUpstream {
  const preset = u.preset === undefined ? undefined : presetValues(u.preset, u.url, field, source);
  const written = u.url ?? preset?.url;
  if (written === undefined) throw new ConfigError(source, `${field}.url`, 'required (or name a preset that has one)');
  const url = new URL(written);
  const registryHost = u.registryHost ?? preset?.registryHost ?? url.host;
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
  const file = (written: string | undefined, key: string): FileRef | undefined =>
    written === undefined ? undefined : { field: `${field}.tls.${key}`, file: resolve(baseDir, written), written };
  const aliases = (u.aliases ?? preset?.aliases ?? []).filter((alias) => alias !== registryHost);
  return {
    name: u.name,
    field,
    preset: u.preset,
    url: url.href.replace(/\/+$/, ''),
    registryHost,
    namespaces: [registryHost, ...aliases],
    isDefault: u.default,
    allow,
    credentials: credentialRefs(u.auth, `${field}.auth`, baseDir),
    tokenRealms: u.tokenRealms ?? preset?.tokenRealms ?? [],
    tls: dropUndefined({ ca: file(u.tls.caFile, 'caFile'), cert: file(u.tls.certFile, 'certFile'), key: file(u.tls.keyFile, 'keyFile') }),
    timeouts: u.timeouts,
    retries: u.retries,
    maxConcurrentRequests: u.maxConcurrentRequests,
    blobRedirects: { ...u.blobRedirects, allowedHosts: u.blobRedirects.allowedHosts ?? preset?.storageHosts ?? [] },
    apiRedirects: { allowedHosts: u.apiRedirects.allowedHosts ?? preset?.apiRedirectHosts ?? [] },
  };
}

function credentialRefs(auth: UpstreamFile['auth'], field: string, baseDir: string): CredentialRefs {
  switch (auth.type) {
    case 'anonymous':
      return { type: 'anonymous' };
    case 'basic':
      return { type: 'basic', username: auth.username, password: secretRef(auth.password, `${field}.password`, baseDir) };
    case 'bearer':
      return { type: 'bearer', token: secretRef(auth.token, `${field}.token`, baseDir) };
  }
}

export function checkUnique(upstreams: readonly Pick<UpstreamConfig, 'name' | 'namespaces' | 'isDefault'>[], source: string): void {
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
