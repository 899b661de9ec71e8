import { createMemoryAdminRateLimitStores, type AdminRateLimitStores } from '../admin/rate-limit-store.ts';
import { createMemoryAuditLog } from '../audit/memory-audit-log.ts';
import { type AuditLog } from '../audit/types.ts';
import { createMemoryBreakGlassStore, type BreakGlassStore } from '../breakglass/entries.ts';
import type { Config } from '../config/types.ts';
import { createMemoryDecisionLog, type DecisionLog } from '../gate/decision-log.ts';
import type { Logger } from '../log/logger.ts';
import type { ApiPolicy } from '../policy-store/api-policy.ts';
import type { PolicyHolder } from '../policy-store/holder.ts';
import { createMemoryLoginLimiter, type LoginLimiter } from '../pullauth/login-limiter.ts';
import { createMemoryRobotStore, type RobotStore } from '../pullauth/robots.ts';
import type { RedisClient } from '../redis/connection.ts';
import { createMemoryScanStore } from '../scan-store/memory-scan-store.ts';
import type { ScanStore } from '../scan-store/types.ts';
import { createMemoryTrustStore } from '../trust-store/memory-trust-store.ts';
import type { TrustStore } from '../trust/types.ts';
import { createMemoryAllowSets } from '../verdicts/memory-allow-sets.ts';
import type { RedisVerdictLayer } from '../verdicts/redis-verdict-cache.ts';
import type { AllowSets, VerdictCache } from '../verdicts/types.ts';
import { createVerdictCache, type VerdictCacheSetup } from '../verdicts/verdict-cache.ts';
import { openRedisBackend } from './redis-backend.ts';

/** Pull authentication's state: robot accounts and failed-login counts. */
export interface PullAuthStores {
  readonly robots: RobotStore;
  readonly limiter: LoginLimiter;
}

/** What the stores are built from: a `Config` is one. */
export interface BackendConfig {
  readonly redis: Config['redis'];
  readonly scans: Config['scans'];
  readonly audit: Config['audit'];
  readonly gate: Pick<Config['gate'], 'verdicts' | 'decisionLog'>;
  /** Only the login limits are read. */
  readonly pullAuth: Pick<NonNullable<Config['pullAuth']>, 'rateLimit'> | undefined;
  readonly admin: Pick<NonNullable<Config['admin']>, 'rateLimit'> | undefined;
}

/** Every store a replica keeps, all in this process's memory or all shared through Redis. */
export interface Backend {
  /** `redis` when redis.url is set (every replica shares the state), `memory` otherwise (this process only). */
  readonly kind: 'memory' | 'redis';
  readonly trust: TrustStore;
  readonly scans: ScanStore;
  /** The verdict cache's shared layer; undefined in memory, where the cache is this process's own. */
  readonly verdictLayer: RedisVerdictLayer | undefined;
  readonly allowSets: AllowSets;
  readonly audit: AuditLog;
  /** The API policy, followed into the policy holder; undefined in memory (policy changes answer 409). */
  readonly apiPolicy: ApiPolicy | undefined;
  readonly breakGlass: BreakGlassStore;
  readonly decisions: DecisionLog;
  /** Present when `pullAuth` is configured. */
  readonly pullAuth: PullAuthStores | undefined;
  /** Present when `admin` is configured. */
  readonly adminRateLimit: AdminRateLimitStores | undefined;
  /** The command connection (health, metrics) and the one subscriber connection; undefined in memory. */
  readonly redis: { readonly command: RedisClient; readonly subscriber: RedisClient } | undefined;
  /** Called whenever scan posts may have gone unheard (the subscriber was away): verdicts held locally may predate a scan. */
  onMissedPosts(listener: () => void): void;
  /** Closes every store, then every connection it opened. */
  close(): Promise<void>;
}

export interface BackendOptions {
  readonly logger: Logger;
  readonly now?: () => number;
  /** Overrides `redis.prefix`, so tests can share one server. */
  readonly redisPrefix?: string;
  /** The active policy: with Redis, the policy applied through the admin API follows Redis into it. */
  readonly policy: PolicyHolder;
  /** The safety-net polls (ms, 0: none); the follower rereads every topic after a reconnect whatever these are. */
  readonly pollIntervalMs?: { readonly trust?: number; readonly breakGlass?: number; readonly policy?: number };
}

/**
 * The one place that decides where shared state lives: Redis when `redis.url` is set, and then
 * never memory (Redis being down fails static or answers 503, store by store), else this
 * process's memory. Every other module is handed the stores it needs.
 */
export async function openBackend(config: BackendConfig, options: BackendOptions): Promise<Backend> {
  if (config.redis.url !== undefined) return openRedisBackend(config, config.redis.url, options);
  const { logger } = options;
  logger.info({ event: 'break_glass_local' }, 'break-glass entries live in this process only (no redis.url): each replica has its own');
  if (config.pullAuth !== undefined)
    logger.warn({ event: 'robots_in_memory' }, 'pullAuth without redis: robot accounts live in this process and vanish when it restarts');
  return openMemoryBackend(config, options);
}

function openMemoryBackend(config: BackendConfig, options: BackendOptions): Backend {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const trust = createMemoryTrustStore({}, { logger });
  const scans = createMemoryScanStore({ logger, now, requeueAfterMs: config.scans.requeueAfterMs });
  const allowSets = createMemoryAllowSets({ now });
  const breakGlass = createMemoryBreakGlassStore();
  const { pullAuth, admin } = config;
  return {
    kind: 'memory',
    trust,
    scans,
    verdictLayer: undefined,
    allowSets,
    audit: createMemoryAuditLog({ maxEntries: config.audit.maxEntries, logger, now }),
    apiPolicy: undefined,
    breakGlass,
    decisions: createMemoryDecisionLog(),
    pullAuth:
      pullAuth === undefined
        ? undefined
        : { robots: createMemoryRobotStore(), limiter: createMemoryLoginLimiter({ ...pullAuth.rateLimit, now }) },
    adminRateLimit: admin === undefined ? undefined : createMemoryAdminRateLimitStores({ config: admin.rateLimit, now }),
    redis: undefined,
    onMissedPosts: () => {}, // one process hears every post
    async close() {
      await allowSets.close();
      await trust.close();
      await breakGlass.close();
      await scans.close();
    },
  };
}

/**
 * The verdict cache over the backend's shared layer. Its local layer is dropped whenever what a
 * verdict held here rests on may have changed: the trust store, the policy, or a scan posted
 * while this replica was not listening.
 */
export function openVerdictCache(
  backend: Pick<Backend, 'trust' | 'verdictLayer' | 'onMissedPosts'>,
  policy: Pick<PolicyHolder, 'onChange'>,
  setup: Omit<VerdictCacheSetup, 'shared'>,
): VerdictCache {
  const verdicts = createVerdictCache({ ...setup, shared: backend.verdictLayer });
  backend.trust.onChange(() => verdicts.clearLocal());
  backend.onMissedPosts(() => verdicts.clearLocal());
  policy.onChange(() => verdicts.clearLocal());
  return verdicts;
}
