import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { PullAuthConfig } from '../config/pull-auth.ts';
import { TrustgateError } from '../errors/errors.ts';
import { pullScope } from './scope.ts';

// A Host header we are willing to echo inside a quoted auth-param: host[:port], IPv6 in brackets.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** The token endpoint: the configured realm, or this request's scheme and Host with `/token`. */
export function realmFor(req: IncomingMessage, config: PullAuthConfig, fallbackHost: string): string {
  if (config.realm !== undefined) return config.realm;
  const host = req.headers.host;
  const protocol = (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
  return `${protocol}://${host !== undefined && HOST.test(host) ? host : fallbackHost}/token`;
}

export interface ChallengeOptions {
  /** The client-visible repository name, for name routes. */
  readonly name?: string | undefined;
  /** A token was presented and refused (RFC 6750 §3.1). */
  readonly invalidToken?: boolean;
}

/**
 * 401 with the Docker token challenge (distribution token.md §"How to authenticate"):
 * `Bearer realm="…/token",service="…"[,scope="repository:<name>:pull"][,error="invalid_token"]`.
 * Every value is from config or validated, so none can break out of its quotes.
 */
export function challengeError(
  req: IncomingMessage,
  config: PullAuthConfig,
  fallbackHost: string,
  options: ChallengeOptions,
  message: string,
): TrustgateError {
  const params = [`realm="${realmFor(req, config, fallbackHost)}"`, `service="${config.service}"`];
  if (options.name !== undefined) params.push(`scope="${pullScope(options.name)}"`);
  if (options.invalidToken === true) params.push('error="invalid_token"');
  return new TrustgateError('UNAUTHORIZED', message, { headers: { 'www-authenticate': `Bearer ${params.join(',')}` } });
}
