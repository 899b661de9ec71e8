import type { PullAuthConfig } from '../config/pull-auth.ts';
import { denyDecision, type Decision } from '../decision/decision.ts';
import { printable } from '../oci/reference.ts';
import type { SourceResolution } from '../upstream/source.ts';
import type { Exchange } from '../server/exchange.ts';
import { challengeError } from './challenge.ts';
import { grantsPull } from './grants.ts';
import type { PullTokens } from './pull-token.ts';

export interface EnforcementDeps {
  readonly config: PullAuthConfig;
  readonly tokens: PullTokens;
  /** host:port for the realm when a request's Host cannot be used. */
  readonly fallbackHost: string;
}

/**
 * The grant check for one authenticated request, handed the source the pipeline resolved
 * (pull/prepare.ts): a denial when the client may not pull that repository. A name that resolves
 * to no source is left to the source check.
 */
export type AuthorizePull = (resolution: SourceResolution) => Decision | undefined;

/** Authenticates one /v2 request; resolves to its grant check. Throws the 401 challenge. */
export type EnforcePullAuth = (exchange: Exchange, name: string | undefined) => Promise<AuthorizePull>;

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * Runs before every /v2 route: each needs a bearer token this deployment issued (any replica: they
 * share the key). No or a bad token: 401 with the challenge. A good token without this
 * repository's pull: 403 DENIED, reason `not_authorized`, reported like every other decision. The
 * verified subject goes on the exchange for the gate and the decision log.
 */
export function enforcePullAuth(deps: EnforcementDeps): EnforcePullAuth {
  return async (exchange, name) => {
    const { req } = exchange;
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
    return (resolution) => {
      if (name === undefined || !resolution.ok) return undefined;
      return grantsPull(verified.grants, name, resolution.source.canonicalName) ? undefined : notAuthorized(verified.subject);
    };
  };
}

function notAuthorized(subject: string): Decision {
  return denyDecision('pull-access', [{ code: 'not_authorized', message: `"${printable(subject, 200)}" may not pull this repository` }]);
}
