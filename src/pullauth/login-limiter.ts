import type { Logger } from '../log/logger.ts';
import type { RedisClient } from '../state/index.ts';
import { createFailureLog } from '../state/throttled-log.ts';

/**
 * Counts failed logins per key (an identity, a client address) in fixed windows. Past
 * `maxFailures` within `windowMs` of a key's first failure, that key is blocked until the window ends.
 */
export interface LoginLimiter {
  /** Milliseconds until every key may try again; 0 when none is over the limit. */
  blockedFor(keys: readonly string[]): Promise<number>;
  failed(keys: readonly string[]): Promise<void>;
}

export interface LimiterOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly now: () => number;
  /** Keys tracked in memory before expired ones are swept (and then the oldest dropped). */
  readonly maxKeys?: number;
}

export function createMemoryLoginLimiter(options: LimiterOptions): LoginLimiter {
  const { maxFailures, windowMs, now } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const counts = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string): { count: number; resetAt: number } | undefined => {
    const entry = counts.get(key);
    if (entry !== undefined && entry.resetAt <= now()) counts.delete(key);
    return entry !== undefined && entry.resetAt > now() ? entry : undefined;
  };
  return {
    async blockedFor(keys) {
      return Math.max(0, ...keys.map((key) => live(key)).map((e) => (e !== undefined && e.count >= maxFailures ? e.resetAt - now() : 0)));
    },
    async failed(keys) {
      for (const key of keys) {
        const entry = live(key);
        if (entry !== undefined) entry.count += 1;
        else counts.set(key, { count: 1, resetAt: now() + windowMs });
      }
      if (counts.size > maxKeys) sweep(counts, now(), maxKeys);
    },
  };
}

function sweep(counts: Map<string, { resetAt: number }>, at: number, maxKeys: number): void {
  for (const [key, entry] of counts) if (entry.resetAt <= at) counts.delete(key);
  // Still too many (a flood of fresh keys): the oldest windows go first.
  for (const key of counts.keys()) {
    if (counts.size <= maxKeys) break;
    counts.delete(key);
  }
}

const CHECK = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return tonumber(ARGV[2]) end
return ttl`;
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * Counts in Redis (`<prefix>login-failures:<key>`, INCR then PEXPIRE), so every replica sees every
 * failure. While Redis fails, this replica counts in memory rather than not at all.
 */
export function createRedisLoginLimiter(redis: RedisClient, prefix: string, options: LimiterOptions & { readonly logger: Logger }): LoginLimiter {
  const local = createMemoryLoginLimiter(options);
  const failures = createFailureLog(options.logger, 'login limiter: redis failed; counting failed logins in this replica only');
  const keyOf = (key: string): string => `${prefix}login-failures:${key}`;
  return {
    async blockedFor(keys) {
      try {
        const ttls = await Promise.all(keys.map((key) => redis.eval(CHECK, 1, keyOf(key), String(options.maxFailures), String(options.windowMs))));
        return Math.max(0, ...ttls.map(Number), await local.blockedFor(keys));
      } catch (error) {
        failures.failed(error, { op: 'check' });
        return local.blockedFor(keys);
      }
    },
    async failed(keys) {
      try {
        await Promise.all(keys.map((key) => redis.eval(FAIL, 1, keyOf(key), String(options.windowMs))));
        failures.reset();
      } catch (error) {
        failures.failed(error, { op: 'count' });
        await local.failed(keys);
      }
    },
  };
}
