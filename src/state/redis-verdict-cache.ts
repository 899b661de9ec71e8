import { noopLogger, type Logger } from '../log/logger.ts';
import type { RedisClient } from './redis-connection.ts';
import { createFailureLog } from './throttled-log.ts';
import { decodeVerdict, encodeVerdict, type CachedVerdict } from './verdict-entry.ts';

/**
 * The shared layer: `<prefix>verdict:<sha256 of the key parts>` → {"expiresAt":…,"decision":…},
 * SET with PX so Redis drops it on its own. Never throws: a failed read is a miss (the caller
 * verifies again, and denies if it cannot), a failed write is logged.
 */
export interface RedisVerdictLayer {
  /** undefined on a miss, on a malformed value, and on any Redis error. */
  get(id: string): Promise<CachedVerdict | undefined>;
  set(id: string, entry: CachedVerdict, ttlMs: number): Promise<void>;
}

export interface RedisVerdictLayerOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
}

export function createRedisVerdictLayer(options: RedisVerdictLayerOptions): RedisVerdictLayer {
  const { redis, prefix } = options;
  const logger = options.logger ?? noopLogger;
  const readFailures = createFailureLog(logger, 'verdict cache read from redis failed; treating as a miss');
  const writeFailures = createFailureLog(logger, 'verdict cache write to redis failed');
  const keyOf = (id: string): string => `${prefix}verdict:${id}`;
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
    async set(id, entry, ttlMs) {
      try {
        await redis.set(keyOf(id), encodeVerdict(entry), 'PX', Math.max(1, Math.ceil(ttlMs)));
      } catch (error) {
        writeFailures.failed(error);
      }
    },
  };
}
