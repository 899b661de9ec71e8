import type { NextFunction, Request, Response } from 'express';
import type { PullAuthConfig } from '../config/pull-auth.ts';
import type { UpstreamConfig } from '../config/types.ts';
import { denialError, type Decision } from '../gate/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { printable } from '../oci/reference.ts';
import { parseRoute, type Route } from '../proxy/route.ts';
import { resolveSource } from '../proxy/source.ts';
import { singleQuery } from '../proxy/tags.ts';
import { requestIdOf } from '../server/request-id.ts';
import { challengeError } from './challenge.ts';
import { setPullClient } from './client-identity.ts';
import { grantsPull } from './grants.ts';
import type { PullTokens } from './pull-token.ts';

export interface EnforcementDeps {
  readonly config: PullAuthConfig;
  readonly upstreams: readonly UpstreamConfig[];
  readonly tokens: PullTokens;
  /** host:port for the realm when a request's Host cannot be used. */
  readonly fallbackHost: string;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'decision'> | undefined;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * Runs before the /v2 handler: every /v2 request needs a bearer token this deployment issued
 * (any replica: they share the key). No or a bad token: 401 with the challenge. A good token
 * without this repository's pull: 403 DENIED, reason `not_authorized`. The verified subject goes
 * on the request for the gate and the decision log.
 */
export function enforcePullAuth(deps: EnforcementDeps): (req: Request, res: Response, next: NextFunction) => Promise<void> {
  return async (req, res, next) => {
    if (req.path !== '/v2' && !req.path.startsWith('/v2/')) return next();
    // distribution-spec: clients look for this header on every /v2/ answer, the 401 included.
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    const route = routeOf(req);
    const name = route !== undefined && route.kind !== 'ping' ? route.name : undefined;
    const presented = BEARER.exec(req.headers.authorization?.trim() ?? '')?.[1];
    if (presented === undefined) throw challengeError(req, deps.config, deps.fallbackHost, { name }, 'authentication required: get a token from the realm in WWW-Authenticate');
    let verified;
    try {
      verified = await deps.tokens.verify(presented);
    } catch (error) {
      // jose's code says why (expired, wrong audience…) without echoing the token.
      const why = (error as { code?: string }).code ?? 'ERR_JWT_INVALID';
      throw challengeError(req, deps.config, deps.fallbackHost, { name, invalidToken: true }, `the bearer token was refused (${why})`);
    }
    setPullClient(res, { subject: verified.subject });
    // Routes that do not parse, or do not resolve, are refused by the /v2 handler as they would be without auth.
    if (route === undefined || route.kind === 'ping') return next();
    const resolved = resolveSource(deps.upstreams, route.name, singleQuery(req, 'ns'));
    if (!resolved.ok) return next();
    const { canonicalName } = resolved.source;
    if (grantsPull(verified.grants, route.name, canonicalName)) return next();
    const denied = notAuthorized(verified.subject);
    if (route.kind === 'manifest') deps.metrics?.decision(denied, resolved.source.upstream.name);
    deps.logger.info(
      { event: 'decision', name: canonicalName, outcome: 'deny', rule: denied.rule, reasons: ['not_authorized'], subject: verified.subject, requestId: requestIdOf(req), client: req.ip },
      'pull not authorized',
    );
    throw denialError(denied, canonicalName);
  };
}

function routeOf(req: Request): Route | undefined {
  try {
    return parseRoute(req.method, req.path);
  } catch {
    return undefined;
  }
}

function notAuthorized(subject: string): Decision {
  return {
    outcome: 'deny',
    rule: 'pull-access',
    reasons: [{ code: 'not_authorized', message: `"${printable(subject, 200)}" may not pull this repository` }],
    signers: [],
    digest: undefined,
    notAfter: undefined,
  };
}
