// The trust store as a start will leave it, read without changing anything: keys/ merged into
// what Redis holds, as `upsertFromFiles` merges them. For the commands that check a deployment
// from its config (`trustgate policy check --config`, `trustgate doctor`).
import type { Config } from '../config/types.ts';
import { noopLogger } from '../log/logger.ts';
import { connectRedis, createRedis, describeTarget, parseRedisUrl, type RedisClient } from '../redis/connection.ts';
import { makeSnapshot, withFileEntries } from '../trust/trust-snapshot.ts';
import type { TrustSnapshot } from '../trust/types.ts';
import { loadKeysDir } from './keys-dir.ts';
import { readRedisTrust } from './redis-trust-store.ts';

export interface ProspectiveTrust {
  readonly snapshot: TrustSnapshot;
  /** Where the entries came from, for messages: `keys.dir <path>`, and Redis by topology and hosts (never a credential). */
  readonly sources: readonly string[];
}

/** Reading Redis failed: names where (topology and hosts), never the URL's credentials. */
export class TrustReadError extends Error {
  constructor(where: string, cause: unknown) {
    super(`cannot read the trust store from Redis (${where}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'TrustReadError';
  }
}

export interface ProspectiveTrustOptions {
  /** A connection to `redis.url` the caller holds (and closes); otherwise one is opened and closed here. */
  readonly redis?: RedisClient;
  readonly connectTimeoutMs?: number;
}

/**
 * keys.dir (a bad file throws the ConfigError a start would), then, with `redis.url`, the
 * trust store in Redis read once (a TrustReadError when it cannot be), with keys/ merged in.
 */
export async function readProspectiveTrust(
  config: Pick<Config, 'keysDir' | 'redis'>,
  options: ProspectiveTrustOptions = {},
): Promise<ProspectiveTrust> {
  const files = loadKeysDir(config.keysDir);
  const keys = `keys.dir ${config.keysDir}`;
  if (config.redis.url === undefined) return { snapshot: makeSnapshot(0, files, []), sources: [keys] };
  const where = describeTarget(parseRedisUrl(config.redis.url));
  const redis = options.redis ?? createRedis(config.redis.url, { logger: noopLogger });
  let last: unknown;
  const onError = (error: unknown): void => void (last = error);
  redis.on('error', onError);
  try {
    await connectRedis(redis, options.connectTimeoutMs ?? 5_000);
    const stored = await readRedisTrust(redis, config.redis.prefix);
    return { snapshot: withFileEntries(stored, files), sources: [keys, `Redis ${where} prefix ${config.redis.prefix}`] };
  } catch (error) {
    throw new TrustReadError(where, last ?? error);
  } finally {
    redis.off('error', onError);
    if (options.redis === undefined) redis.disconnect();
  }
}
