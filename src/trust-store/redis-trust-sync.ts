import type { RedisClient } from '../redis/connection.ts';
import type { FailureLog } from '../redis/throttled-log.ts';

/**
 * Keeps a replica's snapshot following Redis. Pub/sub drops messages while a connection is
 * down, and Redis itself may come back empty or behind, so:
 * - a message with a version other than ours → load;
 * - either connection becoming ready (after SUBSCRIBE is confirmed, for the subscriber) → merge,
 *   which also writes back what Redis lost, then loads;
 * - a timer re-reads the version (one GET, a few times a second) for a lost message while both
 *   stayed connected, e.g. a subscription that silently stopped delivering; one read at a time.
 * Work is coalesced: one task runs at a time, and a merge covers any load asked for meanwhile.
 */
export interface TrustSyncOptions {
  readonly redis: RedisClient;
  readonly subscriber: RedisClient;
  readonly channel: string;
  readonly merge: () => Promise<void>;
  readonly load: () => Promise<void>;
  readonly versionInRedis: () => Promise<number | undefined>;
  readonly mine: () => number;
  readonly failures: FailureLog;
  readonly pollIntervalMs: number;
}

export interface TrustSync {
  /** Subscribes (confirmed by Redis) and starts listening; the caller then loads. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const LOAD = 1;
const MERGE = 2;

export function createTrustSync(o: TrustSyncOptions): TrustSync {
  let wanted = 0;
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function request(kind: number): void {
    wanted = Math.max(wanted, kind);
    running ??= drain().finally(() => {
      running = undefined;
    });
  }

  async function drain(): Promise<void> {
    while (wanted > 0 && !stopped) {
      const kind = wanted;
      wanted = 0;
      try {
        await (kind === MERGE ? o.merge() : o.load());
        o.failures.reset();
      } catch (error) {
        o.failures.failed(error);
      }
    }
  }

  const onMessage = (channel: string, message: string): void => {
    if (channel === o.channel && Number(message) !== o.mine()) request(LOAD);
  };
  const onSubscriberReady = (): void => {
    o.subscriber.subscribe(o.channel).then(
      () => request(MERGE),
      (error: unknown) => o.failures.failed(error),
    );
  };
  const onRedisReady = (): void => request(MERGE);

  let polling = false;
  async function poll(): Promise<void> {
    if (polling || stopped) return; // a slow or hung Redis: never more than one read waiting
    polling = true;
    try {
      const version = await o.versionInRedis();
      if (stopped) return;
      if (version === undefined || version < o.mine()) request(MERGE);
      else if (version > o.mine()) request(LOAD);
    } catch (error) {
      o.failures.failed(error);
    } finally {
      polling = false;
    }
  }

  return {
    async start() {
      await o.subscriber.subscribe(o.channel);
      o.subscriber.on('message', onMessage);
      o.subscriber.on('ready', onSubscriberReady);
      o.redis.on('ready', onRedisReady);
      if (o.pollIntervalMs > 0) {
        timer = setInterval(() => void poll(), o.pollIntervalMs);
        timer.unref();
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      o.subscriber.off('message', onMessage);
      o.subscriber.off('ready', onSubscriberReady);
      o.redis.off('ready', onRedisReady);
      await running;
      if (o.subscriber.status === 'ready') await o.subscriber.unsubscribe(o.channel).catch(() => {});
    },
  };
}
