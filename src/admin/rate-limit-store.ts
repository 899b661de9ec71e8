import { LRUCache } from 'lru-cache';
import type { Logger } from '../log/logger.ts';
import { createMemoryLoginLimiter, createRedisLoginLimiter, type LoginLimiter } from '../pullauth/login-limiter.ts';
import type { RedisClient } from '../redis/connection.ts';
import { createFailureLog } from '../redis/throttled-log.ts';

export interface AdminRateLimitConfig {
  /** Authenticated calls per token subject and per client address, per minute. */
  readonly requestsPerMinute: number;
  /** Calls refused for their token (401) per client address, per minute; past it the address gets 429 before any token is checked. */
  readonly failedAuthPerMinute: number;
}

export const WINDOW_MS = 60_000;

/** Counts a call and says how long until its key's window ends, or 0 while the key is within the limit. */
export interface HitCounter {
  hit(keys: readonly string[]): Promise<number>;
}

/** Where the admin API's counts live: failed authentications per address, and calls per subject and address. */
export interface AdminRateLimitStores {
  readonly failed: LoginLimiter;
  readonly calls: HitCounter;
}

export interface AdminRateLimitStoreOptions {
  readonly config: AdminRateLimitConfig;
  readonly now: () => number;
}

function createMemoryHitCounter(limit: number, now: () => number): HitCounter {
  const windows = new LRUCache<string, { count: number; resetAt: number }>({ max: 100_000 });
  return {
    async hit(keys) {
      let wait = 0;
      for (const key of keys) {
        let entry = windows.get(key);
        if (entry === undefined || entry.resetAt <= now()) {
          entry = { count: 0, resetAt: now() + WINDOW_MS };
          windows.set(key, entry);
        }
        entry.count += 1;
        if (entry.count > limit) wait = Math.max(wait, entry.resetAt - now());
      }
      return wait;
    },
  };
}

const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
if n > tonumber(ARGV[2]) then return ttl end
return 0`;

/** INCR and PEXPIRE in one script per key; while Redis fails, this replica counts in memory. */
function createRedisHitCounter(redis: RedisClient, prefix: string, limit: number, now: () => number, logger: Logger): HitCounter {
  const local = createMemoryHitCounter(limit, now);
  const failures = createFailureLog(logger, 'admin rate limit: redis failed; counting admin calls in this replica only');
  return {
    async hit(keys) {
      try {
        const waits = await Promise.all(keys.map((key) => redis.eval(HIT, 1, `${prefix}${key}`, String(WINDOW_MS), String(limit))));
        failures.reset();
        return Math.max(0, ...waits.map(Number));
      } catch (error) {
        failures.failed(error, { op: 'count' });
        return local.hit(keys);
      }
    },
  };
}

/** The counts of this process only. */
export function createMemoryAdminRateLimitStores({ config, now }: AdminRateLimitStoreOptions): AdminRateLimitStores {
  return {
    // Failed authentications reuse the login limiter's counting (login-limiter.ts), under their own keys.
    failed: createMemoryLoginLimiter({ maxFailures: config.failedAuthPerMinute, windowMs: WINDOW_MS, now }),
    calls: createMemoryHitCounter(config.requestsPerMinute, now),
  };
}

/** Shared counts (`<prefix>admin-…`), so every replica sees every call. */
export function createRedisAdminRateLimitStores(
  o: AdminRateLimitStoreOptions & { readonly redis: RedisClient; readonly prefix: string; readonly logger: Logger },
): AdminRateLimitStores {
  const { config, now, redis, prefix, logger } = o;
  return {
    failed: createRedisLoginLimiter(redis, `${prefix}admin-`, {
      maxFailures: config.failedAuthPerMinute,
      windowMs: WINDOW_MS,
      now,
      logger,
    }),
    calls: createRedisHitCounter(redis, `${prefix}admin-calls:`, config.requestsPerMinute, now, logger),
  };
}
