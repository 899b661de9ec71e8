import { createRedisAdminRateLimitStores } from '../admin/rate-limit-store.ts';
import { createRedisAuditLog } from '../audit/redis-audit-log.ts';
import { createRedisBreakGlassStore } from '../breakglass/redis-break-glass.ts';
import { createMemoryDecisionLog } from '../gate/decision-log.ts';
import { createRedisDecisionLog } from '../gate/redis-decision-log.ts';
import { followApiPolicy } from '../policy-store/api-policy.ts';
import { redisPolicyVersions } from '../policy-store/redis-policy-versions.ts';
import { createRedisLoginLimiter } from '../pullauth/login-limiter.ts';
import { createRedisRobotStore } from '../pullauth/robots.ts';
import { createRedis, untilConnected, warnOnEvictionPolicy } from '../redis/connection.ts';
import { createFollower } from '../redis/follower.ts';
import { createRedisScanStore } from '../scan-store/redis-scan-store.ts';
import { createRedisTrustStore } from '../trust-store/redis-trust-store.ts';
import { createRedisAllowSets } from '../verdicts/redis-allow-sets.ts';
import { createRedisVerdictLayer } from '../verdicts/redis-verdict-cache.ts';
import type { Backend, BackendConfig, BackendOptions } from './backend.ts';

/**
 * Every store shared through Redis, over two connections: one for commands, and one subscriber
 * carrying every store's change notices through the one follower, which rereads each store's
 * state after any reconnect. Waits for Redis however long it takes (logging `redis_waiting`);
 * once started, Redis being down never switches a store to memory.
 */
export async function openRedisBackend(config: BackendConfig, url: string, o: BackendOptions): Promise<Backend> {
  const { logger, policy } = o;
  const now = o.now ?? Date.now;
  const prefix = o.redisPrefix ?? config.redis.prefix;
  const polls = o.pollIntervalMs ?? {};
  const command = createRedis(url, { logger });
  const subscriber = createRedis(url, { logger });
  const follower = createFollower({ redis: command, subscriber, logger });
  const missed = new Set<() => void>();
  const closers: (() => Promise<void>)[] = [];
  async function close(): Promise<void> {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => {});
    await follower.close();
    command.disconnect();
    subscriber.disconnect();
  }

  try {
    await untilConnected([command, subscriber], logger);
    void warnOnEvictionPolicy(command, logger);
    const shared = { redis: command, follower, prefix, logger };
    const trust = await createRedisTrustStore({ ...shared, now, pollIntervalMs: polls.trust });
    closers.push(() => trust.close());
    const scans = await createRedisScanStore({
      ...shared,
      requeueAfterMs: config.scans.requeueAfterMs,
      onMissedPosts: () => {
        for (const listener of [...missed]) listener();
      },
    });
    closers.push(() => scans.close());
    // Made active on this replica before this resolves: an API policy wins over the file.
    const apiPolicy = await followApiPolicy({
      ...shared,
      holder: policy,
      versions: redisPolicyVersions(command, prefix),
      now,
      pollIntervalMs: polls.policy,
    });
    closers.push(() => apiPolicy.close());
    const breakGlass = await createRedisBreakGlassStore({ ...shared, now, pollIntervalMs: polls.breakGlass });
    closers.push(() => breakGlass.close());
    const allowSets = createRedisAllowSets({ redis: command, prefix, logger, local: { now } });
    closers.push(() => allowSets.close());
    const { allowTtlMs, denyTtlMs } = config.gate.verdicts;
    return {
      kind: 'redis',
      trust,
      scans,
      // The digest index outlives every verdict it names.
      verdictLayer: createRedisVerdictLayer({ redis: command, prefix, indexTtlMs: Math.max(allowTtlMs, denyTtlMs), logger }),
      allowSets,
      audit: createRedisAuditLog({ redis: command, prefix, maxEntries: config.audit.maxEntries, logger, now }),
      apiPolicy,
      breakGlass,
      decisions: createRedisDecisionLog({
        redis: command,
        prefix,
        memory: createMemoryDecisionLog(),
        logger,
        maxDigests: config.gate.decisionLog.maxDigests,
      }),
      pullAuth:
        config.pullAuth === undefined
          ? undefined
          : {
              robots: createRedisRobotStore(command, prefix),
              limiter: createRedisLoginLimiter(command, prefix, { ...config.pullAuth.rateLimit, now, logger }),
            },
      adminRateLimit:
        config.admin === undefined
          ? undefined
          : createRedisAdminRateLimitStores({ config: config.admin.rateLimit, redis: command, prefix, logger, now }),
      redis: { command, subscriber },
      onMissedPosts: (listener) => void missed.add(listener),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
