// Public surface of pull-side access control: the Docker token flow in front of /v2.
import express from 'express';
import type { Config } from '../config/types.ts';
import type { PullAuthConfig } from '../config/pull-auth.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { RedisClient } from '../redis/connection.ts';
import { createAuthenticator } from './identity.ts';
import { createMemoryLoginLimiter, createRedisLoginLimiter } from './login-limiter.ts';
import type { Exchange } from '../server/exchange.ts';
import type { Route } from '../oci/route.ts';
import { enforcePullAuth } from './middleware.ts';
import { createOidcVerifier } from './oidc.ts';
import { createPullTokens } from './pull-token.ts';
import { createMemoryRobotStore, createRedisRobotStore, type RobotStore } from './robots.ts';
import { tokenEndpoint } from './token-endpoint.ts';

export type { RobotRecord, RobotStore } from './robots.ts';

export interface PullAuthDeps {
  readonly config: Config;
  /** Shared state: robots and failed-login counts live here when set, in memory otherwise. */
  readonly redis?: RedisClient | undefined;
  readonly prefix: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics?: Pick<Metrics, 'decision'> | undefined;
}

export interface PullAuth {
  /** GET /token. */
  readonly router: express.Router;
  /** The /v2 enforcement, run by the registry handler before each /v2 route. */
  readonly enforce: (exchange: Exchange, route: Route | undefined) => Promise<void>;
  /** For the admin API's robot routes. */
  readonly robots: RobotStore;
}

export async function createPullAuth(pullAuth: PullAuthConfig, deps: PullAuthDeps): Promise<PullAuth> {
  const { config, redis, prefix, logger, now } = deps;
  const limits = { ...pullAuth.rateLimit, now };
  const robots = redis === undefined ? createMemoryRobotStore() : createRedisRobotStore(redis, prefix);
  const limiter = redis === undefined ? createMemoryLoginLimiter(limits) : createRedisLoginLimiter(redis, prefix, { ...limits, logger });
  if (redis === undefined)
    logger.warn({ event: 'robots_in_memory' }, 'pullAuth without redis: robot accounts live in this process and vanish when it restarts');
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
  const enforce = enforcePullAuth({
    config: pullAuth,
    upstreams: config.upstreams,
    tokens,
    fallbackHost: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    logger,
    metrics: deps.metrics,
  });
  return { router, enforce, robots };
}
