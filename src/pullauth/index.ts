// Public surface of pull-side access control: the Docker token flow in front of /v2.
import express from 'express';
import type { Config } from '../config/types.ts';
import type { PullAuthConfig } from '../config/pull-auth.ts';
import type { Logger } from '../log/logger.ts';
import { createAuthenticator } from './identity.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { enforcePullAuth, type EnforcePullAuth } from './middleware.ts';
import { createOidcVerifier } from './oidc.ts';
import { createPullTokens } from './pull-token.ts';
import type { RobotStore } from './robots.ts';
import { tokenEndpoint } from './token-endpoint.ts';

export type { RobotRecord, RobotStore } from './robots.ts';
export type { LoginLimiter } from './login-limiter.ts';

export interface PullAuthDeps {
  readonly config: Config;
  /** Robot accounts: in this process, or shared through Redis (the runtime's backend chooses). */
  readonly robots: RobotStore;
  /** Failed-login counts, limited by `pullAuth.rateLimit`. */
  readonly limiter: LoginLimiter;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface PullAuth {
  /** GET /token. */
  readonly router: express.Router;
  /** The /v2 enforcement, run by the registry handler before each /v2 route. */
  readonly enforce: EnforcePullAuth;
  /** For the admin API's robot routes. */
  readonly robots: RobotStore;
}

export async function createPullAuth(pullAuth: PullAuthConfig, deps: PullAuthDeps): Promise<PullAuth> {
  const { config, robots, limiter, logger, now } = deps;
  if (config.admin === undefined && pullAuth.oidc === undefined) {
    logger.warn(
      { event: 'pull_auth_no_identities' },
      'pullAuth without the admin API (for robots) or oidc: no client can log in, so every pull is refused',
    );
  }
  const tokens = await createPullTokens(pullAuth, now);
  const oidc = pullAuth.oidc === undefined ? undefined : createOidcVerifier(pullAuth.oidc, now);
  const { host, port } = config.listen;
  const router = express.Router();
  router.get(
    '/token',
    tokenEndpoint({
      config: pullAuth,
      upstreams: config.upstreams,
      tokens,
      authenticate: createAuthenticator({ robots, oidc }),
      limiter,
      logger,
    }),
  );
  const enforce = enforcePullAuth({ config: pullAuth, tokens, fallbackHost: `${host.includes(':') ? `[${host}]` : host}:${port}` });
  return { router, enforce, robots };
}
