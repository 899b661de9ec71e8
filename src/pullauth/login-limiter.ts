import type { Logger } from '../log/logger.ts';
import type { RedisClient } from '../redis/connection.ts';
import { createFailureLog } from '../redis/throttled-log.ts';

/**
 * Counts failed logins per key (an identity, a client address) in fixed windows. Past
 * `maxFailures` within `windowMs` of a key's first failure, that key is blocked until the window ends.
 *
 * A login takes its attempt with `attempt` before the (slow) password check: the check and the
 * count are one atomic step, so however many logins arrive at once, at most `maxFailures`
 * passwords per key are checked in a window. The attempt counts as a failure from then on, unless
 * it is given back (`refund`) because the login succeeded or no password was checked.
 */
export interface LoginLimiter {
  /** Milliseconds until every key may try again; 0 when none is over the limit. */
  blockedFor(keys: readonly string[]): Promise<number>;
  failed(keys: readonly string[]): Promise<void>;
  /** Takes one attempt on every key, or none when any key is at the limit (then `waitMs` > 0). */
  attempt(keys: readonly string[]): Promise<LoginAttempt>;
}

export interface LoginAttempt {
  /** 0: taken, go ahead and check the password. Else refused, nothing taken: wait this long. */
  readonly waitMs: number;
  /** The password was wrong: the attempt stays counted as a failure. Never throws. */
  confirm(): Promise<void>;
  /** The login succeeded (or no password was checked): the attempt is given back. Never throws. */
  refund(): Promise<void>;
}

export interface LimiterOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly now: () => number;
  /** Keys tracked in memory before expired ones are swept (and then the oldest dropped). */
  readonly maxKeys?: number;
}

/**
 * The wait answered while a key is at the limit only because of attempts still being checked
 * (they may yet succeed and be given back), rather than until the window ends.
 */
export const IN_FLIGHT_RETRY_MS = 1_000;

interface Entry {
  /** Failures, plus attempts still being checked. */
  count: number;
  /** Attempts still being checked. */
  pending: number;
  resetAt: number;
}

const settled = (waitMs: number): LoginAttempt => ({ waitMs, confirm: async () => {}, refund: async () => {} });

/** Runs `settle` once, whichever of confirm and refund is called (and however often). */
function once(waitMs: number, settle: (refund: boolean) => Promise<void>): LoginAttempt {
  let done = false;
  const run = async (refund: boolean): Promise<void> => {
    if (done) return;
    done = true;
    await settle(refund);
  };
  return { waitMs, confirm: () => run(false), refund: () => run(true) };
}

export function createMemoryLoginLimiter(options: LimiterOptions): LoginLimiter {
  const { maxFailures, windowMs, now } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const counts = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const entry = counts.get(key);
    if (entry !== undefined && entry.resetAt <= now()) counts.delete(key);
    return entry !== undefined && entry.resetAt > now() ? entry : undefined;
  };
  const take = (key: string, pending: number): Entry => {
    const entry = live(key) ?? { count: 0, pending: 0, resetAt: now() + windowMs };
    entry.count += 1;
    entry.pending += pending;
    counts.set(key, entry);
    return entry;
  };
  const bound = (): void => {
    if (counts.size > maxKeys) sweep(counts, now(), maxKeys);
  };
  return {
    async blockedFor(keys) {
      return Math.max(0, ...keys.map((key) => live(key)).map((e) => (e !== undefined && e.count >= maxFailures ? e.resetAt - now() : 0)));
    },
    async failed(keys) {
      for (const key of keys) take(key, 0);
      bound();
    },
    // Synchronous from the check to the count: nothing else runs in between on this process.
    async attempt(keys) {
      const at = now();
      const waits = keys
        .map((key) => live(key))
        .map((e) => {
          if (e === undefined || e.count < maxFailures) return 0;
          const untilReset = e.resetAt - at;
          return e.count - e.pending >= maxFailures ? untilReset : Math.min(IN_FLIGHT_RETRY_MS, untilReset);
        });
      const waitMs = Math.max(0, ...waits);
      if (waitMs > 0) return settled(waitMs);
      // Entries are held by reference: one whose window ended meanwhile is no longer counted, so settling it changes nothing.
      const taken = keys.map((key) => take(key, 1));
      bound();
      return once(0, async (refund) => {
        for (const entry of taken) {
          entry.pending = Math.max(0, entry.pending - 1);
          if (refund) entry.count = Math.max(0, entry.count - 1);
        }
      });
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
// KEYS: per key, its count then its pending count. ARGV: max failures, window ms, in-flight retry ms.
// Any key at the limit: nothing is taken, and the wait is returned. Else every key is counted.
const ATTEMPT = `
local max, window, retry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for i = 1, #KEYS, 2 do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= max then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      redis.call('PEXPIRE', KEYS[i], window)
      ttl = window
    end
    local pending = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
    if n - pending < max and ttl > retry then ttl = retry end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], window) end
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], window)
end
return 0`;
// KEYS as above; ARGV[1] '1' to give the attempt back, '0' to keep it as a failure.
const SETTLE = `
for i = 1, #KEYS, 2 do
  if ARGV[1] == '1' and tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
  if tonumber(redis.call('GET', KEYS[i + 1]) or '0') > 0 then redis.call('DECR', KEYS[i + 1]) end
end
return 0`;

/**
 * Counts in Redis (`<prefix>login-failures:<key>`, INCR then PEXPIRE), so every replica sees every
 * failure; attempts still being checked are also in `<prefix>login-pending:<key>`. An attempt's
 * check and count is one script over all its keys (one Cluster slot through the prefix's hash
 * tag). While Redis fails, this replica counts in memory rather than not at all.
 */
export function createRedisLoginLimiter(
  redis: RedisClient,
  prefix: string,
  options: LimiterOptions & { readonly logger: Logger },
): LoginLimiter {
  const local = createMemoryLoginLimiter(options);
  const failures = createFailureLog(options.logger, 'login limiter: redis failed; counting failed logins in this replica only');
  const keyOf = (key: string): string => `${prefix}login-failures:${key}`;
  const pendingOf = (key: string): string => `${prefix}login-pending:${key}`;
  return {
    async blockedFor(keys) {
      try {
        const ttls = await Promise.all(
          keys.map((key) => redis.eval(CHECK, 1, keyOf(key), String(options.maxFailures), String(options.windowMs))),
        );
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
    async attempt(keys) {
      // Failures counted here while Redis was down still block.
      const localWait = await local.blockedFor(keys);
      if (localWait > 0) return settled(localWait);
      const redisKeys = keys.flatMap((key) => [keyOf(key), pendingOf(key)]);
      let waitMs: number;
      try {
        waitMs = Number(
          await redis.eval(
            ATTEMPT,
            redisKeys.length,
            ...redisKeys,
            String(options.maxFailures),
            String(options.windowMs),
            String(IN_FLIGHT_RETRY_MS),
          ),
        );
        failures.reset();
      } catch (error) {
        failures.failed(error, { op: 'attempt' });
        return local.attempt(keys);
      }
      if (waitMs > 0) return settled(waitMs);
      return once(0, async (refund) => {
        try {
          await redis.eval(SETTLE, redisKeys.length, ...redisKeys, refund ? '1' : '0');
        } catch (error) {
          // The attempt stays counted until its window ends: a right password may cost one try.
          failures.failed(error, { op: refund ? 'refund' : 'confirm' });
        }
      });
    },
  };
}
