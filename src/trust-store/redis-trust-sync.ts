import type { Follower, Following } from '../redis/follower.ts';
import type { FailureLog } from '../redis/throttled-log.ts';

/**
 * Keeps a replica's snapshot following Redis. Pub/sub drops messages while a connection is
 * down, and Redis itself may come back empty or behind, so:
 * - a message with a version other than ours → load;
 * - the follower's reread after any reconnect (the subscriber subscribed again) → merge, which
 *   also writes back what Redis lost, then loads;
 * - a timer re-reads the version and how many entries and tombstones Redis holds (one round trip,
 *   a few times a second) for a lost message while both stayed connected, e.g. a subscription that
 *   silently stopped delivering; one read at a time. Fewer entries or tombstones than this replica
 *   holds → merge, whatever the version says: both only ever grow, so fewer means Redis lost data,
 *   even when the store re-created there happens to carry this replica's very version number.
 * Work is coalesced: one task runs at a time, and a merge covers any load asked for meanwhile.
 */
export interface TrustSyncOptions {
  /** Where the store registers its topic: the follower rereads it (a merge) after every reconnect. */
  readonly follower: Follower;
  readonly channel: string;
  readonly merge: () => Promise<void>;
  readonly load: () => Promise<void>;
  /** The version (undefined when missing) and the number of entries and tombstones in Redis. */
  readonly inRedis: () => Promise<StoreCounts>;
  readonly mine: () => StoreCounts;
  readonly failures: FailureLog;
  readonly pollIntervalMs: number;
}

export interface StoreCounts {
  readonly version: number | undefined;
  readonly entries: number;
  readonly revocations: number;
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
      const redis = await o.inRedis();
      if (stopped) return;
      const mine = o.mine();
      const lost = redis.entries < mine.entries || redis.revocations < mine.revocations;
      if (redis.version === undefined || redis.version < (mine.version ?? 0) || lost) void request(MERGE);
      else if (redis.version > (mine.version ?? 0)) void request(LOAD);
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
        // Our own version announced by someone else: a store re-created after Redis lost data can carry it by chance, so check the counts.
        onMessage: (message) => void (Number(message) !== o.mine().version ? request(LOAD) : poll()),
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
