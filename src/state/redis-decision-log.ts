import { DECISIONS_PER_DIGEST, type DecisionLog, type DecisionRecord } from '../gate/decision-log.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import type { RedisClient } from './redis-connection.ts';
import { createFailureLog } from './throttled-log.ts';

export interface RedisDecisionLogOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  /** This replica's ring: written too, and read when Redis fails. */
  readonly memory: DecisionLog;
  readonly logger?: Logger;
  /** How long a digest's list lives after its last pull. Default 7 days. */
  readonly ttlMs?: number;
}

/**
 * Decision records of every replica: the capped list `<prefix>decisions:<digest>` (LPUSH, LTRIM to
 * the newest DECISIONS_PER_DIGEST, expiring a week after the digest's last pull). Writes are fire
 * and forget, so a pull never waits for them; reads fall back to this replica's ring.
 */
export function createRedisDecisionLog(o: RedisDecisionLogOptions): DecisionLog {
  const { redis, memory } = o;
  const ttl = o.ttlMs ?? 7 * 86_400_000;
  const failures = createFailureLog(o.logger ?? noopLogger, 'decision record not stored in redis; this replica keeps it in memory');
  const key = (digest: string): string => `${o.prefix}decisions:${digest}`;
  return {
    record(record) {
      memory.record(record);
      const k = key(record.digest);
      redis.multi().lpush(k, JSON.stringify(record)).ltrim(k, 0, DECISIONS_PER_DIGEST - 1).pexpire(k, ttl).exec().then(() => failures.reset(), (error: unknown) => failures.failed(error));
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
