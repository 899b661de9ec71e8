// The delivery queue (docs/notifications.md "Delivery"): per endpoint, bounded, with due times for
// retries and a lease on each delivery being sent. Memory here; Redis in redis-queue.ts.

/** One delivery of one event to one endpoint: the generic payload's JSON and the attempts made. */
export interface QueuedDelivery {
  readonly id: string;
  readonly payload: string;
  readonly attempts: number;
}

/** A delivery this replica holds until `done`, `retry` or the lease runs out. */
export interface Claimed extends QueuedDelivery {
  readonly lease: string;
}

export interface DeliveryQueue {
  /**
   * Queues `payload` under `id` for each endpoint, unless `id` was queued in the last `dedupeMs`
   * (by any replica, with Redis). A full endpoint drops its oldest. Returns null for a repeat,
   * else how many each endpoint dropped.
   */
  enqueue(id: string, payload: string, endpoints: readonly string[], dedupeMs: number, now: number): Promise<Record<string, number> | null>;
  /** The first delivery due by `now`, leased for `leaseMs` (no other claim gets it meanwhile). */
  claim(endpoint: string, now: number, leaseMs: number, lease: string): Promise<Claimed | undefined>;
  /** Removes it: delivered, or dropped for good. */
  done(endpoint: string, claimed: Claimed): Promise<void>;
  /** Due again at `dueAt` with one more attempt counted; ignored if the lease was lost. */
  retry(endpoint: string, claimed: Claimed, dueAt: number): Promise<void>;
  /** When the next delivery is due, if any. */
  nextDue(endpoint: string): Promise<number | undefined>;
  depth(endpoint: string): Promise<number>;
}

interface Entry {
  payload: string;
  attempts: number;
  dueAt: number;
  lease: string | undefined;
}

/** Most event ids remembered for dedupe in memory; the oldest are forgotten first. */
const MAX_SEEN = 100_000;

/** This process's queue (no redis.url): lost at restart, delivered by this replica only. */
export function createMemoryQueue(maxPending: number): DeliveryQueue {
  const queues = new Map<string, Map<string, Entry>>();
  const seen = new Map<string, number>();
  const queue = (endpoint: string): Map<string, Entry> => {
    let q = queues.get(endpoint);
    if (q === undefined) queues.set(endpoint, (q = new Map()));
    return q;
  };
  return {
    async enqueue(id, payload, endpoints, dedupeMs, now) {
      for (const [old, until] of seen) {
        if (until > now && seen.size < MAX_SEEN) break;
        seen.delete(old);
      }
      const until = seen.get(id);
      if (until !== undefined && until > now) return null;
      seen.delete(id);
      seen.set(id, now + dedupeMs);
      const dropped: Record<string, number> = {};
      for (const endpoint of endpoints) {
        const q = queue(endpoint);
        q.set(id, { payload, attempts: 0, dueAt: now, lease: undefined });
        let over = q.size - maxPending;
        dropped[endpoint] = Math.max(0, over);
        for (const oldest of q.keys()) {
          if (over-- <= 0) break;
          q.delete(oldest);
        }
      }
      return dropped;
    },
    async claim(endpoint, now, leaseMs, lease) {
      for (const [id, entry] of queue(endpoint)) {
        if (entry.dueAt > now) continue;
        entry.dueAt = now + leaseMs;
        entry.lease = lease;
        return { id, payload: entry.payload, attempts: entry.attempts, lease };
      }
      return undefined;
    },
    async done(endpoint, claimed) {
      queue(endpoint).delete(claimed.id);
    },
    async retry(endpoint, claimed, dueAt) {
      const entry = queue(endpoint).get(claimed.id);
      if (entry === undefined || entry.lease !== claimed.lease) return;
      entry.attempts = claimed.attempts + 1;
      entry.dueAt = dueAt;
      entry.lease = undefined;
    },
    async nextDue(endpoint) {
      let first: number | undefined;
      for (const entry of queue(endpoint).values()) if (first === undefined || entry.dueAt < first) first = entry.dueAt;
      return first;
    },
    async depth(endpoint) {
      return queue(endpoint).size;
    },
  };
}
