import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis } from 'ioredis';
import { noopLogger, type Logger } from '../log/logger.ts';
import { createFailureLog } from './throttled-log.ts';
import { parseRedisUrl, type RedisTarget } from './url.ts';

export { warnOnEvictionPolicy } from './eviction-policy.ts';
export { parseRedisUrl, redactRedisUrl } from './url.ts';
export type { RedisTarget } from './url.ts';

/** Every store takes either; both speak the same commands, pub/sub included. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** Prepended by ioredis to every key (not to pub/sub channels; the stores add it there themselves). */
  readonly keyPrefix?: string;
  readonly logger?: Logger;
  /** Extra TLS settings for rediss* URLs, e.g. `{ ca }` for a private CA. */
  readonly tls?: ConnectionOptions;
  /** A command with no reply by then fails (a hung Redis must not hang a pull). Default 2000. */
  readonly commandTimeoutMs?: number;
  /** Reconnects back off exponentially up to this, forever. Default 2000. */
  readonly maxRetryDelayMs?: number;
}

/** Capped exponential backoff with jitter; never gives up (a null would end the client for good). */
export function backoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) => Math.round(Math.min(50 * 2 ** Math.min(attempt, 12), maxDelayMs) * (0.8 + Math.random() * 0.4));
}

/** Where it points, for logs: topology and hosts, never credentials. */
export function describeTarget(target: RedisTarget): string {
  const hosts = target.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  return `${target.topology}${target.tls ? '+tls' : ''} ${hosts}${target.masterName === undefined ? '' : `/${target.masterName}`}`;
}

/**
 * An ioredis client for a Redis URL (forms in redis-url.ts). It does not connect until
 * `connectRedis` or a first command (lazyConnect). Commands fail fast while Redis is unreachable
 * (no offline queue, one retry, a command timeout) so callers can fall back instead of hanging;
 * the connection itself is retried forever.
 */
export function createRedis(url: string, options: RedisConnectionOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  const commandTimeout = options.commandTimeoutMs ?? 2000;
  const maxDelay = options.maxRetryDelayMs ?? 2000;
  if (!(commandTimeout > 0) || !(maxDelay > 0)) throw new TypeError('redis: commandTimeoutMs and maxRetryDelayMs must be positive');
  const password = target.password?.reveal();
  const tls = target.tls ? { ...options.tls } : undefined;
  const prefix = options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix };
  const perNode = { maxRetriesPerRequest: 1, commandTimeout, connectTimeout: 5000, username: target.username, password, tls };
  const common = { ...perNode, ...prefix, lazyConnect: true, enableOfflineQueue: false };
  let client: RedisClient;
  if (target.topology === 'cluster') {
    client = new Cluster(
      target.nodes.map((n) => ({ ...n })),
      {
        ...prefix,
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: backoff(maxDelay),
        redisOptions: perNode,
      },
    );
  } else if (target.topology === 'sentinel') {
    client = new Redis({
      ...common,
      db: target.db,
      name: target.masterName,
      sentinels: target.nodes.map((n) => ({ ...n })),
      ...(target.sentinelAuth ? { sentinelUsername: target.username, sentinelPassword: password } : {}),
      tls,
      enableTLSForSentinelMode: target.tls,
      sentinelTLS: tls,
      retryStrategy: backoff(maxDelay),
      sentinelRetryStrategy: backoff(maxDelay),
    });
  } else {
    const node = target.nodes[0] ?? { host: '127.0.0.1', port: 6379 };
    client = new Redis({ ...common, host: node.host, port: node.port, db: target.db, tls, retryStrategy: backoff(maxDelay) });
  }
  watch(client, describeTarget(target), options.logger ?? noopLogger);
  return client;
}

/** Logs connection state changes; the 'error' listener also keeps ioredis from printing to stderr. */
function watch(client: RedisClient, redis: string, logger: Logger): void {
  const failures = createFailureLog(logger, 'redis connection failed; retrying');
  client.on('error', (error: unknown) => failures.failed(error, { redis }));
  client.on('ready', () => {
    failures.reset();
    logger.info({ redis }, 'redis ready');
  });
}

/** Connects a lazy client (or waits for one already connecting); rejects after `timeoutMs`. */
export async function connectRedis(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw new Error('redis client is closed');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    function onReady(): void {
      clearTimeout(timer);
      resolve();
    }
    client.once('ready', onReady);
    if (client.status === 'wait') client.connect().catch(() => {}); // failures are retried; 'ready' or the timer decide
  });
}

/**
 * Redis may come up after trustgate (a whole deployment starting at once): waits for every client
 * however long it takes, instead of giving up after one connect timeout. The clients reconnect on
 * their own; this only logs every `logEveryMs` that it is still waiting. Rejects once a client is closed.
 */
export async function untilConnected(clients: readonly RedisClient[], logger: Logger, logEveryMs = 5_000): Promise<void> {
  for (;;) {
    try {
      await Promise.all(clients.map((client) => connectRedis(client, logEveryMs)));
      return;
    } catch (error) {
      if (clients.some((client) => client.status === 'end')) throw error;
      logger.warn({ event: 'redis_waiting', err: String(error) }, 'redis not reachable yet; still starting');
    }
  }
}
