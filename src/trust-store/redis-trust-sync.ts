import type { Follower, Following } from '../redis/follower.ts';
import type { FailureLog } from '../redis/throttled-log.ts';

/**
 * Keeps a replica's snapshot following Redis. Pub/sub drops messages while a connection is
 * down, and Redis itself may come back empty or behind, so:
 * - a message with a version other than ours → load;
 * - the follower's reread after any reconnect (the subscriber subscribed again) → merge, which
 *   also writes back what Redis lost, then loads;
 * - a timer re-reads the version (one GET, a few times a second) for a lost message while both
 *   stayed connected, e.g. a subscription that silently stopped delivering; one read at a time.
 * Work is coalesced: one task runs at a time, and a merge covers any load asked for meanwhile.
 */
export interface TrustSyncOptions {
  /** Where the store registers its topic: the follower rereads it (a merge) after every reconnect. */
  readonly follower: Follower;
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
  let following: Following | undefined;

  function request(kind: number): Promise<void> {
    wanted = Math.max(wanted, kind);
    running ??= drain().finally(() => {
      running = undefined;
    });
    return running;
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

  let polling = false;
  async function poll(): Promise<void> {
    if (polling || stopped) return; // a slow or hung Redis: never more than one read waiting
    polling = true;
    try {
      const version = await o.versionInRedis();
      if (stopped) return;
      if (version === undefined || version < o.mine()) void request(MERGE);
      else if (version > o.mine()) void request(LOAD);
    } catch (error) {
      o.failures.failed(error);
    } finally {
      polling = false;
    }
  }

  return {
    async start() {
      following = await o.follower.follow({
        channel: o.channel,
        what: 'trust store',
        onMessage: (message) => void (Number(message) !== o.mine() && request(LOAD)),
        reread: () => request(MERGE),
      });
      if (o.pollIntervalMs > 0) {
        timer = setInterval(() => void poll(), o.pollIntervalMs);
        timer.unref();
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await following?.stop();
      await running;
    },
  };
}
