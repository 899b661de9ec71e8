import type { PullAuthConfig } from '../config/pull-auth.ts';
import type { UpstreamConfig } from '../config/types.ts';
import { denialError } from '../decision/denial.ts';
import { type Decision } from '../decision/decision.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { printable } from '../oci/reference.ts';
import type { Route } from '../oci/route.ts';
import { resolveSource } from '../upstream/source.ts';
import { clientAddressOf, singleQuery, type Exchange } from '../server/exchange.ts';
import { challengeError } from './challenge.ts';
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
 * Runs before every /v2 route: each needs a bearer token this deployment issued (any replica: they
 * share the key). No or a bad token: 401 with the challenge. A good token without this
 * repository's pull: 403 DENIED, reason `not_authorized`. The verified subject goes on the
 * exchange for the gate and the decision log.
 */
export function enforcePullAuth(deps: EnforcementDeps): (exchange: Exchange, route: Route | undefined) => Promise<void> {
  return async (exchange, route) => {
    const { req } = exchange;
    const name = route !== undefined && route.kind !== 'ping' ? route.name : undefined;
    const presented = BEARER.exec(req.headers.authorization?.trim() ?? '')?.[1];
    if (presented === undefined)
      throw challengeError(
        req,
        deps.config,
        deps.fallbackHost,
        { name },
        'authentication required: get a token from the realm in WWW-Authenticate',
      );
    let verified;
    try {
      verified = await deps.tokens.verify(presented);
    } catch (error) {
      // jose's code says why (expired, wrong audience…) without echoing the token.
      const why = (error as { code?: string }).code ?? 'ERR_JWT_INVALID';
      throw challengeError(req, deps.config, deps.fallbackHost, { name, invalidToken: true }, `the bearer token was refused (${why})`);
    }
    exchange.client = { subject: verified.subject };
    // Routes that do not parse, or do not resolve, are refused by the /v2 handler as they would be without auth.
    if (route === undefined || route.kind === 'ping') return;
    const resolved = resolveSource(deps.upstreams, route.name, singleQuery(exchange, 'ns'));
    if (!resolved.ok) return;
    const { canonicalName } = resolved.source;
    if (grantsPull(verified.grants, route.name, canonicalName)) return;
    const denied = notAuthorized(verified.subject);
    if (route.kind === 'manifest') deps.metrics?.decision(denied, resolved.source.upstream.name);
    deps.logger.info(
      {
        event: 'decision',
        name: canonicalName,
        outcome: 'deny',
        rule: denied.rule,
        reasons: ['not_authorized'],
        subject: verified.subject,
        requestId: exchange.requestId,
        client: clientAddressOf(exchange),
      },
      'pull not authorized',
    );
    throw denialError(denied, canonicalName);
  };
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
