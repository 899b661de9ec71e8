// Public surface of shared state: Redis connections, the verdict cache and the allow sets.
export type { AllowSets, VerdictCache, VerdictCacheOptions, VerdictKey } from './types.ts';
export { connectRedis, createRedis, warnOnEvictionPolicy } from './redis-connection.ts';
export type { RedisClient, RedisConnectionOptions } from './redis-connection.ts';
export { parseRedisUrl, redactRedisUrl } from './redis-url.ts';
export { createVerdictCache } from './verdict-cache.ts';
export type { VerdictCacheSetup, VerdictLayerName } from './verdict-cache.ts';
export { createMemoryAllowSets } from './memory-allow-sets.ts';
export type { MemoryAllowSetsOptions } from './memory-allow-sets.ts';
export { createRedisAllowSets } from './redis-allow-sets.ts';
export type { RedisAllowSetsOptions } from './redis-allow-sets.ts';
