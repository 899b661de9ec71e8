import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/connection.ts';

/**
 * Redis layout of the trust store (`<prefix>` is the store's option, after any ioredis keyPrefix):
 *
 *   <prefix>trust:entries   HASH  id → TrustEntry JSON (fixed field order)
 *   <prefix>trust:revoked   HASH  id → {"revokedAt":ms,"reason":…}; nothing ever deletes a field
 *   <prefix>trust:version   STRING integer, bumped atomically with every change
 *   <prefix>trust:changed   pub/sub channel carrying the new version (ioredis keyPrefix included)
 *
 * None of these keys has a TTL (see redis-eviction-policy.ts). In a Redis Cluster the three keys
 * must share a slot (the scripts touch all three), so the prefix must hold a hash tag, e.g.
 * `{trustgate}:`.
 */
export interface TrustKeys {
  /** entries, revoked, version: the KEYS of every script, in that order (ioredis adds its keyPrefix). */
  readonly keys: readonly [string, string, string];
  /** Channels get no ioredis keyPrefix, so it is added here: deployments sharing a Redis stay apart. */
  readonly channel: string;
}

export const hasHashTag = (prefix: string): boolean => /\{[^}]+\}/.test(prefix);

export function trustKeys(redis: RedisClient, prefix: string): TrustKeys {
  const clientPrefix = redis.options.keyPrefix ?? '';
  if (redis instanceof Cluster && !hasHashTag(clientPrefix + prefix)) {
    throw new TypeError(`trust store prefix ${JSON.stringify(prefix)}: Redis Cluster needs a hash tag in it, e.g. "{trustgate}:"`);
  }
  return {
    keys: [`${prefix}trust:entries`, `${prefix}trust:revoked`, `${prefix}trust:version`],
    channel: `${clientPrefix}${prefix}trust:changed`,
  };
}
