// Shared test helpers: the shared Redis (unique key prefix per test, keys deleted after),
// LIFO cleanup, a recording logger, deadlines.
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { Logger } from '../../src/log/logger.ts';
import { connectRedis, createRedis, type RedisClient, type RedisConnectionOptions } from '../../src/redis/connection.ts';

export const SHARED_REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Cleanups run last-registered first, after the test, in one t.after. */
export function scope(t: TestContext): (cleanup: () => unknown) => void {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return (cleanup) => void cleanups.push(cleanup);
}

/** A connected client that is quit after the test. */
export async function client(defer: (c: () => unknown) => void, url: string, options: RedisConnectionOptions = {}): Promise<RedisClient> {
  const redis = createRedis(url, { maxRetryDelayMs: 200, ...options });
  defer(() => redis.disconnect());
  await connectRedis(redis, 5000);
  return redis;
}

/** A fresh key prefix on the shared Redis; every key under it is deleted after the test. */
export async function sharedPrefix(defer: (c: () => unknown) => void, tag: string): Promise<string> {
  const prefix = `tgtest:${tag}:${randomBytes(6).toString('hex')}:`;
  const admin = createRedis(SHARED_REDIS_URL);
  await connectRedis(admin, 5000);
  defer(async () => {
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });
  return prefix;
}

export async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await (redis as import('ioredis').Redis).scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  if (keys.length > 0) await redis.del(...keys);
}

export interface LogRecord {
  readonly level: string;
  readonly record: object;
  readonly message: string | undefined;
}

export function recordingLogger(): Logger & { records: LogRecord[]; text(): string } {
  const records: LogRecord[] = [];
  const at = (level: string) => (record: object, message?: string) => void records.push({ level, record, message });
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), text: () => JSON.stringify(records) };
}

/** Resolves with the promise's value, or rejects once `ms` pass: "this call must not hang". */
export async function within<T>(ms: number, promise: Promise<T>, what = 'call'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true, failing after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
