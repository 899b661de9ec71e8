import type { Logger } from '../log/logger.ts';
import type { RedisClient } from './connection.ts';
import { followerFor, type FollowVia } from './follower.ts';
import { createFailureLog } from './throttled-log.ts';

export interface FollowOptions extends FollowVia {
  readonly redis: RedisClient;
  /** With any ioredis keyPrefix already added (channels get none). */
  readonly channel: string;
  /** Reads the state from Redis and takes it. Never runs twice at once. */
  readonly load: () => Promise<void>;
  readonly logger: Logger;
  /** For the failure log line: "break glass", "API policy"… */
  readonly what: string;
  /** Safety net for lost messages: load this often. 0 disables. Default 30 s. */
  readonly pollIntervalMs?: number;
}

export interface Followed {
  /** Loads after every load already asked for; resolves when a load that began after the call is done. */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps a replica's copy of a small piece of shared state following Redis: a message on
 * `channel`, the follower's reread after any reconnect (messages sent meanwhile were lost) and a
 * slow timer all ask for a load. Loads run one at a time, in order, so the last one always
 * reflects the latest state; failures are logged (throttled) and the copy stays.
 */
export async function followRedis(o: FollowOptions): Promise<Followed> {
  const failures = createFailureLog(o.logger, `${o.what}: reading redis failed; keeping what this replica holds`);
  let queued: Promise<void> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let stopped = false;

  function refresh(): Promise<void> {
    if (queued !== undefined) return queued;
    const next = tail.then(async () => {
      queued = undefined;
      if (!stopped) await o.load();
    });
    queued = next;
    tail = next.then(
      () => failures.reset(),
      (error: unknown) => failures.failed(error),
    );
    return next;
  }
  const background = (): Promise<void> => refresh().catch(() => {}); // logged through tail

  const { follower, release } = followerFor(o.redis, o, o.logger);
  const following = await follower
    .follow({ channel: o.channel, what: o.what, onMessage: () => void background(), reread: background })
    .catch(async (error: unknown) => {
      await release();
      throw error;
    });
  const poll = o.pollIntervalMs ?? 30_000;
  const timer = poll > 0 ? setInterval(() => void background(), poll) : undefined;
  timer?.unref();

  return {
    refresh,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await following.stop();
      await release();
      await tail;
    },
  };
}
