import { createHash } from 'node:crypto';
import { noopLogger, type Logger } from '../log/logger.ts';
import type { Digest } from '../oci/reference.ts';
import { checkTtl, createMemoryAllowSets, type MemoryAllowSetsOptions } from './memory-allow-sets.ts';
import type { RedisClient } from './redis-connection.ts';
import { createFailureLog } from './throttled-log.ts';
import type { AllowSets } from './types.ts';

/**
 * Redis layout, per (generation, canonical name), `<h>` = sha256 of JSON [generation, name]
 * (unambiguous whatever the two contain):
 *   <prefix>allow:blobs:<h>      SET  of blob digests
 *   <prefix>allow:children:<h>   HASH child digest → index digest
 * Each key's TTL is only ever extended (to the longest ttl recorded), so a short-lived record
 * does not cut a long-lived one's blobs short. Failures never throw: a failed lookup is "not
 * allowed" (fail closed) unless this replica recorded it itself (the local copy, checked first).
 */
const RECORD = `
local ttl = tonumber(ARGV[2])
if ARGV[1] == 'set' then
  for i = 3, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
else
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

export interface RedisAllowSetsOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
  /** The local copy of this replica's own records. */
  readonly local?: MemoryAllowSetsOptions;
}

export function createRedisAllowSets(options: RedisAllowSetsOptions): AllowSets {
  const { redis, prefix } = options;
  const logger = options.logger ?? noopLogger;
  const local = createMemoryAllowSets(options.local);
  const failures = createFailureLog(logger, 'allow sets: redis failed; using only this replica\'s own records');
  const keyOf = (kind: 'blobs' | 'children', generation: string, name: string): string =>
    `${prefix}allow:${kind}:${createHash('sha256').update(JSON.stringify([generation, name])).digest('hex')}`;

  async function record(key: string, kind: 'set' | 'hash', ttlMs: number, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    try {
      await redis.eval(RECORD, 1, key, kind, String(Math.ceil(ttlMs)), ...members);
    } catch (error) {
      failures.failed(error, { op: 'record' });
    }
  }
  async function lookup<T>(read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read();
    } catch (error) {
      failures.failed(error, { op: 'lookup' });
      return fallback;
    }
  }

  return {
    async recordBlobs(generation, canonicalName, blobs, ttlMs) {
      checkTtl(ttlMs);
      await local.recordBlobs(generation, canonicalName, blobs, ttlMs);
      await record(keyOf('blobs', generation, canonicalName), 'set', ttlMs, blobs);
    },
    async isBlobAllowed(generation, canonicalName, blob) {
      if (await local.isBlobAllowed(generation, canonicalName, blob)) return true;
      return lookup(async () => (await redis.sismember(keyOf('blobs', generation, canonicalName), blob)) === 1, false);
    },
    async recordChildren(generation, canonicalName, index, children, ttlMs) {
      checkTtl(ttlMs);
      await local.recordChildren(generation, canonicalName, index, children, ttlMs);
      await record(keyOf('children', generation, canonicalName), 'hash', ttlMs, children.flatMap((c) => [c, index]));
    },
    async parentOf(generation, canonicalName, child) {
      const mine = await local.parentOf(generation, canonicalName, child);
      if (mine !== undefined) return mine;
      const parent = await lookup(() => redis.hget(keyOf('children', generation, canonicalName), child), null);
      return (parent ?? undefined) as Digest | undefined;
    },
    async close() {
      await local.close();
    },
  };
}
