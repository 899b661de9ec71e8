import type { RedisClient } from './connection.ts';

export type RedisHealth = 'up' | 'down';

export interface RedisProbeOptions {
  /** A PING with no PONG by then counts as down. Default 500. */
  readonly timeoutMs?: number;
  /** One answer serves every probe for this long (a flood of probes sends one PING). Default 1000. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * Is Redis answering? `down` at once while the client is not connected; otherwise a PING with a
 * short timeout. Never rejects. Concurrent and repeated calls within `cacheMs` share one answer.
 */
export function createRedisProbe(client: RedisClient, options: RedisProbeOptions = {}): () => Promise<RedisHealth> {
  const timeoutMs = options.timeoutMs ?? 500;
  const cacheMs = options.cacheMs ?? 1000;
  const now = options.now ?? Date.now;
  let last: { readonly at: number; readonly health: Promise<RedisHealth> } | undefined;

  async function ping(): Promise<RedisHealth> {
    if (client.status !== 'ready') return 'down';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const reply = await Promise.race([client.ping(), timeout]);
      return reply === 'PONG' ? 'up' : 'down';
    } catch {
      return 'down';
    } finally {
      clearTimeout(timer);
    }
  }

  return () => {
    const at = now();
    if (last !== undefined && at - last.at < cacheMs) return last.health;
    last = { at, health: ping() };
    return last.health;
  };
}
