// The verdict cache's shared layer, built as the runtime's backend builds it.
import type { Logger } from '../../src/log/logger.ts';
import type { RedisClient } from '../../src/redis/connection.ts';
import { createRedisVerdictLayer, type RedisVerdictLayer } from '../../src/verdicts/redis-verdict-cache.ts';
import type { VerdictCacheOptions } from '../../src/verdicts/types.ts';

/** The Redis layer for a cache with these TTLs: the digest index outlives its longest verdict. */
export function sharedLayer(
  client: RedisClient,
  prefix: string,
  ttls: Pick<VerdictCacheOptions, 'allowTtlMs' | 'denyTtlMs'>,
  logger?: Logger,
): RedisVerdictLayer {
  const indexTtlMs = Math.max(ttls.allowTtlMs, ttls.denyTtlMs);
  return createRedisVerdictLayer({ redis: client, prefix, indexTtlMs, ...(logger === undefined ? {} : { logger }) });
}
