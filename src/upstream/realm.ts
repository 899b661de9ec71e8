import { TrustgateError } from '../errors/errors.ts';
import type { UpstreamConfig } from '../config/types.ts';

/** `origin + pathname` of an http(s) URL without userinfo, or undefined. */
export function normalizeRealm(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return url.origin + url.pathname;
}

function badRealm(config: UpstreamConfig, message: string): TrustgateError {
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream ${JSON.stringify(config.name)} ${message}`);
}

/**
 * The token realm an upstream named in a Bearer challenge, if trustgate may call it: a realm on
 * the upstream's own origin, or one listed in `config.tokenRealms` (compared as origin + path).
 * Anything else is refused, so a registry cannot make trustgate send requests, let alone
 * credentials, to arbitrary hosts.
 */
export function allowedRealm(config: UpstreamConfig, realm: string | undefined): URL {
  if (realm === undefined || realm === '') throw badRealm(config, 'sent a Bearer challenge without a realm');
  const normalized = normalizeRealm(realm);
  if (normalized === undefined) throw badRealm(config, 'sent a Bearer challenge with an invalid realm');
  const url = new URL(realm);
  if (url.origin === new URL(config.url).origin) return url;
  const listed = config.tokenRealms.some((allowed) => normalizeRealm(allowed) === normalized);
  if (listed) return url;
  const shown = normalized.length > 200 ? `${normalized.slice(0, 200)}…` : normalized;
  throw badRealm(config, `named token realm ${shown}, which is not allowed by config (tokenRealms)`);
}
