import type { Logger } from '../log/logger.ts';
import type { RedisClient } from './connection.ts';
import { createFailureLog } from './throttled-log.ts';

/** One piece of shared state a replica follows: a change-notice channel, and how to read the state again. */
export interface Topic {
  /** With any ioredis keyPrefix already added (channels get none). */
  readonly channel: string;
  /** For log lines: "trust store", "API policy", "break glass", "scan posted". */
  readonly what: string;
  /** A message on `channel`. */
  onMessage(message: string): void;
  /**
   * Reads the state again. Called after every (re)connect of either connection, once the
   * subscriber is subscribed again: what was published while it was away is lost for good.
   * A rejection is logged (throttled); stores usually log their own failures and resolve.
   */
  reread(): Promise<void>;
}

export interface Following {
  /** Stops routing to the topic, and unsubscribes its channel when no other topic uses it. */
  stop(): Promise<void>;
}

/**
 * The pub/sub side of one replica: one subscriber connection carrying every topic's channel. It
 * owns subscribing, subscribing again after a reconnect and the reread that follows; the stores
 * only register their topics.
 */
export interface Follower {
  /** The subscriber connection (the caller's: close() does not disconnect it). */
  readonly subscriber: RedisClient;
  /** Subscribes to the topic's channel (confirmed by Redis), then routes its messages and rereads to it. */
  follow(topic: Topic): Promise<Following>;
  /** Rereads every topic, as after a reconnect; resolves when each has settled. */
  rereadAll(): Promise<void>;
  /** Stops every topic. */
  close(): Promise<void>;
}

export interface FollowerOptions {
  /** The command connection: when it is back, a reread that failed while it was down is tried again. */
  readonly redis: RedisClient;
  readonly subscriber: RedisClient;
  readonly logger: Logger;
}

interface Entry {
  readonly topic: Topic;
  readonly settle: (reading: Promise<void>) => Promise<void>;
}

export function createFollower(o: FollowerOptions): Follower {
  const { subscriber, logger } = o;
  const entries = new Set<Entry>();
  const subscribeFailures = createFailureLog(logger, 'redis pub/sub: subscribing again failed; trying again at the next reconnect');
  const channels = (): string[] => [...new Set([...entries].map((e) => e.topic.channel))];

  const reread = (entry: Entry): Promise<void> => entry.settle(Promise.resolve().then(() => entry.topic.reread()));
  const rereadAll = async (): Promise<void> => void (await Promise.all([...entries].map(reread)));
  const onMessage = (channel: string, message: string): void => {
    for (const entry of entries) {
      if (entry.topic.channel !== channel) continue;
      try {
        entry.topic.onMessage(message);
      } catch (error) {
        logger.error({ channel, err: String(error) }, `${entry.topic.what}: handling a change notice failed`);
      }
    }
  };
  // Subscribed again before reading: a change published after the read cannot be missed.
  const onSubscriberReady = (): void => {
    const list = channels();
    if (list.length === 0) return;
    subscriber.subscribe(...list).then(
      () => {
        subscribeFailures.reset();
        return rereadAll();
      },
      (error: unknown) => subscribeFailures.failed(error),
    );
  };
  const onRedisReady = (): void => void rereadAll();
  subscriber.on('message', onMessage);
  subscriber.on('ready', onSubscriberReady);
  o.redis.on('ready', onRedisReady);

  async function unsubscribe(list: readonly string[]): Promise<void> {
    if (list.length > 0 && subscriber.status === 'ready') await subscriber.unsubscribe(...list).catch(() => {});
  }

  return {
    subscriber,
    async follow(topic) {
      const failures = createFailureLog(logger, `${topic.what}: reading redis after a reconnect failed; keeping what this replica holds`);
      const settle = (reading: Promise<void>): Promise<void> =>
        reading.then(
          () => failures.reset(),
          (error: unknown) => failures.failed(error),
        );
      const entry: Entry = { topic, settle };
      await subscriber.subscribe(topic.channel);
      entries.add(entry);
      return {
        async stop() {
          if (entries.delete(entry) && !channels().includes(topic.channel)) await unsubscribe([topic.channel]);
        },
      };
    },
    rereadAll,
    async close() {
      subscriber.off('message', onMessage);
      subscriber.off('ready', onSubscriberReady);
      o.redis.off('ready', onRedisReady);
      const list = channels();
      entries.clear();
      await unsubscribe(list);
    },
  };
}

/** How a store reaches pub/sub: the replica's follower, or a subscriber connection of its own (a store opened alone: a CLI command, a test). */
export interface FollowVia {
  readonly follower?: Follower;
  readonly subscriber?: RedisClient;
}

/** The follower a store registers with, and how to let go of it: one the store made is closed with the store. */
export function followerFor(redis: RedisClient, via: FollowVia, logger: Logger): { follower: Follower; release(): Promise<void> } {
  if (via.follower !== undefined) return { follower: via.follower, release: async () => {} };
  if (via.subscriber === undefined) throw new TypeError('a redis store needs the follower or a subscriber connection');
  const follower = createFollower({ redis, subscriber: via.subscriber, logger });
  return { follower, release: () => follower.close() };
}
