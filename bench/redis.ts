// Whether the machine's shared Redis answers, for thundering-herd's two-replica
// variant. Only PING: the bench never writes outside its own key prefix and
// never flushes anything.
import { Redis } from 'ioredis';

/** undefined when `url` answers PING within 2 s; else why not. */
export async function redisReachable(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {}); // reported through the PING below
  try {
    await redis.connect();
    const pong = await redis.ping();
    return pong === 'PONG' ? undefined : `PING answered ${pong}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    redis.disconnect();
  }
}
