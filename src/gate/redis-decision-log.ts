import { DECISIONS_PER_DIGEST, feedMatches, RECENT_DECISIONS, type DecisionLog, type DecisionRecord } from './decision-log.ts';
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
  /** Records in the feed across digests (XADD MAXLEN ~). Default RECENT_DECISIONS. */
  readonly recentCap?: number;
}

export const DEFAULT_MAX_DIGESTS = 100_000;
/** Evictions one write may make: a lowered cap is reached over a few writes, never in one long script. */
const EVICT_PER_WRITE = 1_000;
/** Records read per XREVRANGE when paging the feed. */
const FEED_BATCH = 500;
/** Replicas' clocks (the record's time) and Redis's (the stream id) may differ by this much; the id bounds a read only this loosely. */
const FEED_SKEW_MS = 5 * 60_000;

// KEYS[1] the digest's list, KEYS[2] the index (ZSET digest → last pull, in µs of Redis's clock),
// KEYS[3] the feed across digests (a stream, trimmed to about ARGV[7] entries).
// ARGV: record, digest, records per digest, ttl ms, max digests, evictions per write, feed cap.
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
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'r', ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl)
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
 * atomically, and drops index members whose list has expired; it also appends the record to the
 * feed across digests, the stream `<prefix>decisions-recent` (XADD MAXLEN ~ `recentCap`, expiring
 * `ttlMs` after the last pull). Writes are fire and forget, so a pull never waits for them; reads
 * fall back to this replica's rings.
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
  const stream = `${o.prefix}decisions-recent`;
  const recentCap = o.recentCap ?? RECENT_DECISIONS;
  if (!Number.isSafeInteger(recentCap) || recentCap < 1)
    throw new TypeError(`decision log recentCap must be a positive integer, not ${recentCap}`);
  const args = [String(DECISIONS_PER_DIGEST), String(ttl), String(maxDigests), String(EVICT_PER_WRITE), String(recentCap)];
  return {
    record(record) {
      memory.record(record);
      redis.eval(RECORD, 3, key(record.digest), index, stream, JSON.stringify(record), record.digest, ...args).then(
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
    async feed(query) {
      const records: DecisionRecord[] = [];
      const low = query.since === undefined ? '-' : String(Math.max(0, query.since - FEED_SKEW_MS));
      let cursor = '+';
      let scanned = 0;
      try {
        for (;;) {
          const rows = await redis.xrevrange(stream, cursor, low, 'COUNT', FEED_BATCH);
          for (const [id, fields] of rows) {
            scanned += 1;
            cursor = `(${id}`;
            const record = parse(fields[fields.indexOf('r') + 1]);
            if (record !== undefined && feedMatches(record, query)) records.push(record);
            if (records.length === query.limit) return { records, from: 'redis', exhausted: false };
            if (scanned >= recentCap) return { records, from: 'redis', exhausted: true };
          }
          if (rows.length < FEED_BATCH) return { records, from: 'redis', exhausted: true };
        }
      } catch {
        return memory.feed(query);
      }
    },
  };
}

function parse(row: string | undefined): DecisionRecord | undefined {
  try {
    return JSON.parse(row ?? '') as DecisionRecord;
  } catch {
    return undefined;
  }
}
