import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { TrustgateError } from '../errors/errors.ts';
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

/**
 * Fixed one-minute windows over the admin API (/admin/v1). Each method throws TOOMANYREQUESTS
 * (429 with Retry-After) when the caller is over its limit.
 */
export interface AdminRateLimit {
  /** Before the token is checked: refuses an address with too many failed authentications. */
  beforeAuth(address: string): Promise<void>;
  /** The token was refused (401). */
  failedAuth(address: string): Promise<void>;
  /** Counts an authenticated call against its subject and its address. */
  authenticated(subject: string, address: string): Promise<void>;
}

export type AdminThrottleReason = 'failed_auth' | 'requests';

export interface AdminRateLimitDeps {
  readonly config: AdminRateLimitConfig;
  /** Shared counts when set (`<prefix>admin-…`), so every replica sees every call; memory otherwise. */
  readonly redis?: RedisClient | undefined;
  readonly prefix: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Told of each refused call (`trustgate_admin_throttled_total{reason}`). */
  readonly onThrottled?: ((reason: AdminThrottleReason) => void) | undefined;
}

const WINDOW_MS = 60_000;

/** Counts a call and says how long until its key's window ends, or 0 while the key is within the limit. */
interface HitCounter {
  hit(keys: readonly string[]): Promise<number>;
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

/** Subjects are hashed: keys stay short and printable whatever a token's `sub` holds. */
const subjectKey = (subject: string): string => `subject:${createHash('sha256').update(subject).digest('hex').slice(0, 32)}`;

export function createAdminRateLimit(deps: AdminRateLimitDeps): AdminRateLimit {
  const { config, redis, prefix, logger, now } = deps;
  const failedOptions = { maxFailures: config.failedAuthPerMinute, windowMs: WINDOW_MS, now };
  // Failed authentications reuse the login limiter's counting (login-limiter.ts), under their own keys.
  const failed: LoginLimiter =
    redis === undefined
      ? createMemoryLoginLimiter(failedOptions)
      : createRedisLoginLimiter(redis, `${prefix}admin-`, { ...failedOptions, logger });
  const calls =
    redis === undefined
      ? createMemoryHitCounter(config.requestsPerMinute, now)
      : createRedisHitCounter(redis, `${prefix}admin-calls:`, config.requestsPerMinute, now, logger);
  // One warning per key and window, so a flood of refused calls cannot flood the log.
  const warned = new LRUCache<string, true>({ max: 10_000, ttl: WINDOW_MS });

  const refuse = (reason: AdminThrottleReason, key: string, waitMs: number, message: string): never => {
    deps.onThrottled?.(reason);
    if (!warned.has(`${reason}|${key}`)) {
      warned.set(`${reason}|${key}`, true);
      logger.warn({ event: 'admin_throttled', reason, key, retryAfterSeconds: Math.ceil(waitMs / 1000) }, message);
    }
    throw new TrustgateError('TOOMANYREQUESTS', message, { headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } });
  };

  return {
    async beforeAuth(address) {
      const waitMs = await failed.blockedFor([`address:${address}`]);
      if (waitMs > 0)
        refuse('failed_auth', `address:${address}`, waitMs, 'too many failed admin authentications from this address; try again later');
    },
    async failedAuth(address) {
      await failed.failed([`address:${address}`]);
    },
    async authenticated(subject, address) {
      const keys = [subjectKey(subject), `address:${address}`];
      const waitMs = await calls.hit(keys);
      if (waitMs > 0) refuse('requests', keys.join(' '), waitMs, 'too many admin API calls; try again later');
    },
  };
}
