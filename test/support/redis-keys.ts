import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix of trustgate's shape (`{name}:`) no other test run uses. */
export function testPrefix(label: string): string {
  return `{tg-${label}-${randomUUID().slice(0, 8)}}:`;
}

/** Deletes this test's keys from the shared Redis (never anything else). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
