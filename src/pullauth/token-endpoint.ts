import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { PullAuthConfig } from '../config/pull-auth.ts';
import type { UpstreamConfig } from '../config/types.ts';
import { isTrustgateError, TrustgateError } from '../errors/errors.ts';
import type { Logger } from '../log/logger.ts';
import { printable } from '../oci/reference.ts';
import { requestIdOf } from '../server/request-id.ts';
import { grantPulls } from './grants.ts';
import type { PullIdentity } from './identity.ts';
import type { LoginLimiter } from './login-limiter.ts';
import type { PullTokens } from './pull-token.ts';
import { parseScopes, ScopeError, type ResourceScope } from './scope.ts';

export interface TokenEndpointDeps {
  readonly config: PullAuthConfig;
  readonly upstreams: readonly UpstreamConfig[];
  readonly tokens: PullTokens;
  readonly authenticate: (username: string, password: string) => Promise<PullIdentity | undefined>;
  readonly limiter: LoginLimiter;
  readonly logger: Logger;
}

/**
 * GET /token?service=<service>&scope=repository:<name>:pull[&scope=…] with HTTP Basic
 * credentials (distribution token.md "Requesting a Token"). Answers a short-lived token carrying
 * only the pulls the identity may make; ungranted scopes are simply left out.
 */
export function tokenEndpoint(deps: TokenEndpointDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    res.locals['route'] = '/token';
    res.setHeader('cache-control', 'no-store'); // RFC 6749 §5.1: a token answer is never cached
    const scopes = requestedScopes(req, deps.config);
    const credentials = basicCredentials(req.headers.authorization);
    if (credentials === undefined)
      throw unauthorized('credentials are required: a robot name and secret, or an OIDC token as the password');
    const { username, password } = credentials;
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    // Counted per identity and per address; a blocked caller learns nothing, the password is not checked.
    // The attempt is taken before the check, atomically with the limit test, so concurrent logins cannot overshoot it.
    const keys = [`identity:${createHash('sha256').update(username).digest('hex')}`, `address:${client}`];
    const log = { username: printable(username, 64), client, requestId: requestIdOf(req) };
    const attempt = await deps.limiter.attempt(keys);
    if (attempt.waitMs > 0) {
      deps.logger.warn({ event: 'login_throttled', ...log }, 'too many failed logins');
      throw new TrustgateError('TOOMANYREQUESTS', 'too many failed logins; try again later', {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(attempt.waitMs / 1000))) },
      });
    }
    let identity: PullIdentity | undefined;
    try {
      identity = await authenticate(deps, username, password);
    } catch (error) {
      await attempt.refund(); // no answer on the credentials (a store or issuer failing): not a failed login
      throw error;
    }
    if (identity === undefined) {
      await attempt.confirm();
      deps.logger.info({ event: 'login_failed', ...log }, 'pull token refused: bad credentials');
      throw unauthorized('invalid credentials');
    }
    await attempt.refund();
    const grants = grantPulls(scopes, identity, deps.upstreams);
    const { token, issuedAt, expiresIn } = await deps.tokens.issue(identity.subject, grants);
    deps.logger.info(
      {
        event: 'token_issued',
        subject: identity.subject,
        granted: grants.map((g) => g.name),
        refused: ungranted(scopes, grants),
        client,
        requestId: log.requestId,
      },
      'pull token issued',
    );
    res.status(200).json({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(issuedAt).toISOString() });
  };
}

function requestedScopes(req: Request, config: PullAuthConfig): ResourceScope[] {
  const service = req.query['service'];
  if (service !== undefined && service !== config.service) {
    throw new TrustgateError('BAD_REQUEST', `this token endpoint issues tokens for service "${config.service}"`);
  }
  try {
    return parseScopes(req.query['scope']);
  } catch (error) {
    if (error instanceof ScopeError) throw new TrustgateError('BAD_REQUEST', error.message);
    throw error;
  }
}

/** RFC 7617: `Basic base64(user ":" password)`; the user id cannot contain a colon. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header?.trim() ?? '');
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon > 256) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function authenticate(deps: TokenEndpointDeps, username: string, password: string): Promise<PullIdentity | undefined> {
  try {
    return await deps.authenticate(username, password);
  } catch (error) {
    if (isTrustgateError(error)) throw error;
    throw new TrustgateError('STORE_UNAVAILABLE', 'robot accounts cannot be read right now; try again', { cause: error });
  }
}

function ungranted(scopes: readonly ResourceScope[], grants: readonly { name: string }[]): string[] {
  return scopes
    .filter((s) => !grants.some((g) => g.name === s.name))
    .map((s) => printable(`${s.type}:${s.name}:${s.actions.join(',')}`, 300));
}

function unauthorized(message: string): TrustgateError {
  return new TrustgateError('UNAUTHORIZED', message, { headers: { 'www-authenticate': 'Basic realm="trustgate", charset="UTF-8"' } });
}
