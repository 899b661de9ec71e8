import { noopLogger, type Logger } from '../log/logger.ts';
import type { Digest } from '../oci/reference.ts';
import type { RedisClient } from '../redis/connection.ts';
import { execAll } from '../redis/exec.ts';
import { createFailureLog } from '../redis/throttled-log.ts';
import { decodeVerdict, encodeVerdict, type CachedVerdict } from './verdict-entry.ts';

/**
 * The shared layer:
 *   <prefix>verdict:<sha256 of the key parts>   STRING {"expiresAt":…,"decision":…}, SET with PX
 *   <prefix>verdicts-by-digest:<digest>         SET of the verdict keys above written for that
 *                                                digest (as passed to the client, before any
 *                                                ioredis keyPrefix), so a posted scan can drop them
 * The verdict and its index entry are written in one MULTI. The index's TTL is reset to the
 * longest verdict TTL on every put, so it outlives each of its members; a member whose verdict
 * already expired is harmless (DEL of a missing key). Never throws: a failed read is a miss (the
 * caller verifies again, and denies if it cannot), a failed write or forget is logged. The MULTI
 * and the forget's DEL span keys, so in a Redis Cluster the prefix needs a hash tag (as for the
 * trust store).
 */
export interface RedisVerdictLayer {
  /** undefined on a miss, on a malformed value, and on any Redis error. */
  get(id: string): Promise<CachedVerdict | undefined>;
  set(id: string, entry: CachedVerdict, ttlMs: number, digest: Digest): Promise<void>;
  /** Deletes every verdict indexed under `digest`. */
  forgetDigest(digest: Digest): Promise<void>;
}

export interface RedisVerdictLayerOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  /** At least the longest TTL any verdict gets: how long a digest's index is kept after its last put. */
  readonly indexTtlMs: number;
  readonly logger?: Logger;
}

export function createRedisVerdictLayer(options: RedisVerdictLayerOptions): RedisVerdictLayer {
  const { redis, prefix } = options;
  const logger = options.logger ?? noopLogger;
  const indexTtl = String(Math.max(1, Math.ceil(options.indexTtlMs)));
  const readFailures = createFailureLog(logger, 'verdict cache read from redis failed; treating as a miss');
  const writeFailures = createFailureLog(logger, 'verdict cache write to redis failed');
  const forgetFailures = createFailureLog(logger, "verdict cache: dropping a digest's verdicts in redis failed; they expire by their TTL");
  const keyOf = (id: string): string => `${prefix}verdict:${id}`;
  const indexOf = (digest: Digest): string => `${prefix}verdicts-by-digest:${digest}`;

  return {
    async get(id) {
      let json: string | null;
      try {
        json = await redis.get(keyOf(id));
      } catch (error) {
        readFailures.failed(error);
        return undefined;
      }
      if (json === null) return undefined;
      const entry = decodeVerdict(json);
      if (entry === undefined) logger.warn({ key: keyOf(id) }, 'malformed verdict in redis; treating as a miss');
      return entry;
    },
    async set(id, entry, ttlMs, digest) {
      const key = keyOf(id);
      const index = indexOf(digest);
      try {
        await execAll(
          redis
            .multi()
            .set(key, encodeVerdict(entry), 'PX', Math.max(1, Math.ceil(ttlMs)))
            .sadd(index, key)
            .pexpire(index, indexTtl),
        );
      } catch (error) {
        writeFailures.failed(error);
      }
    },
    async forgetDigest(digest) {
      const index = indexOf(digest);
      try {
        const keys = await redis.smembers(index);
        if (keys.length === 0) return;
        // SREM rather than DEL of the index: a verdict put meanwhile stays indexed. An emptied SET is removed by Redis.
        await execAll(
          redis
            .multi()
            .del(...keys)
            .srem(index, ...keys),
        );
      } catch (error) {
        forgetFailures.failed(error, { digest });
      }
    },
  };
}
