import { DECISIONS_PER_DIGEST, type DecisionLog, type DecisionRecord } from './decision-log.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import type { RedisClient } from '../redis/connection.ts';
import { createFailureLog } from '../redis/throttled-log.ts';

export interface RedisDecisionLogOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  /** This replica's ring: written too, and read when Redis fails. */
  readonly memory: DecisionLog;
  readonly logger?: Logger;
  /** How long a digest's list lives after its last pull. Default 7 days. */
  readonly ttlMs?: number;
  /** Most digests with a list in Redis; past it the least recently pulled go. Default 100000. */
  readonly maxDigests?: number;
}

export const DEFAULT_MAX_DIGESTS = 100_000;
/** Evictions one write may make: a lowered cap is reached over a few writes, never in one long script. */
const EVICT_PER_WRITE = 1_000;

// KEYS[1] the digest's list, KEYS[2] the index (ZSET digest → last pull, in µs of Redis's clock).
// ARGV: record, digest, records per digest, ttl ms, max digests, evictions per write.
// A list key is the digest appended to the same key prefix as KEYS[1], so evicted lists are named
// from it (any ioredis keyPrefix included; one Cluster slot through the prefix's hash tag).
// Scores are strictly increasing, so the digest just written is never the oldest.
const RECORD = `
local list, index, digest = KEYS[1], KEYS[2], ARGV[2]
local ttl = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
if top[2] ~= nil and tonumber(top[2]) >= now then now = tonumber(top[2]) + 1 end
redis.call('LPUSH', list, ARGV[1])
redis.call('LTRIM', list, 0, tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', list, ttl)
redis.call('PEXPIRE', index, ttl)
redis.call('ZADD', index, string.format('%.0f', now), digest)
redis.call('ZREMRANGEBYSCORE', index, '-inf', string.format('%.0f', now - ttl * 1000))
local over = redis.call('ZCARD', index) - tonumber(ARGV[5])
if over <= 0 then return 0 end
if over > tonumber(ARGV[6]) then over = tonumber(ARGV[6]) end
local base = string.sub(list, 1, #list - #digest)
local victims = redis.call('ZRANGE', index, 0, over - 1)
for i = 1, #victims do redis.call('DEL', base .. victims[i]) end
redis.call('ZREMRANGEBYRANK', index, 0, over - 1)
return #victims`;

/**
 * Decision records of every replica: the capped list `<prefix>decisions:<digest>` (LPUSH, LTRIM to
 * the newest DECISIONS_PER_DIGEST, expiring `ttlMs` after the digest's last pull), and the index
 * `<prefix>decisions-index` (ZSET digest → last pull) that bounds how many digests have a list:
 * past `maxDigests`, the least recently pulled digests' lists are deleted. One script does it all,
 * atomically, and drops index members whose list has expired. Writes are fire and forget, so a
 * pull never waits for them; reads fall back to this replica's ring.
 */
export function createRedisDecisionLog(o: RedisDecisionLogOptions): DecisionLog {
  const { redis, memory } = o;
  const ttl = o.ttlMs ?? 7 * 86_400_000;
  const maxDigests = o.maxDigests ?? DEFAULT_MAX_DIGESTS;
  if (!Number.isSafeInteger(ttl) || ttl < 1) throw new TypeError(`decision log ttlMs must be a positive integer, not ${ttl}`);
  if (!Number.isSafeInteger(maxDigests) || maxDigests < 1)
    throw new TypeError(`decision log maxDigests must be a positive integer, not ${maxDigests}`);
  const failures = createFailureLog(o.logger ?? noopLogger, 'decision record not stored in redis; this replica keeps it in memory');
  const key = (digest: string): string => `${o.prefix}decisions:${digest}`;
  const index = `${o.prefix}decisions-index`;
  const args = [String(DECISIONS_PER_DIGEST), String(ttl), String(maxDigests), String(EVICT_PER_WRITE)];
  return {
    record(record) {
      memory.record(record);
      redis.eval(RECORD, 2, key(record.digest), index, JSON.stringify(record), record.digest, ...args).then(
        () => failures.reset(),
        (error: unknown) => failures.failed(error),
      );
    },
    async recent(digest, limit) {
      let rows: string[];
      try {
        rows = await redis.lrange(key(digest), 0, limit - 1);
      } catch {
        return memory.recent(digest, limit);
      }
      const records = rows.flatMap((row) => {
        try {
          return [JSON.parse(row) as DecisionRecord];
        } catch {
          return [];
        }
      });
      return { records, from: 'redis' };
    },
  };
}
