import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/reference.ts';
import type { Decision, Reason } from '../decision/decision.ts';

/** One gated pull, as GET /admin/v1/decisions shows it. */
export interface DecisionRecord {
  /** Epoch ms. */
  readonly time: number;
  readonly name: string;
  /** The tag or digest the client asked for. */
  readonly reference: string;
  readonly digest: Digest;
  readonly outcome: Decision['outcome'];
  readonly rule: string;
  readonly reasons: readonly Reason[];
  readonly signers: readonly string[];
  readonly notAfter?: number;
  /** The pull's identity, with pull-side access control on. */
  readonly subject?: string;
}

/** Which records of the feed across digests to return (GET /admin/v1/decisions/recent, /overview). */
export interface FeedQuery {
  readonly outcome?: Decision['outcome'];
  /** A reason code any of the record's reasons has. */
  readonly reason?: string;
  /** Epoch ms: only records at or after it. */
  readonly since?: number;
  /** At most this many records. */
  readonly limit: number;
  /** Only records whose name passes (a scoped caller's patterns). */
  readonly visible?: (name: string) => boolean;
}

export interface FeedPage {
  /** Newest first. */
  readonly records: readonly DecisionRecord[];
  readonly from: 'redis' | 'memory';
  /** True when the feed ended (its cap, or `since`) before `limit` records matched: there is nothing older to ask for. */
  readonly exhausted: boolean;
}

export interface DecisionLog {
  /** Keeps a record; never waits for Redis, never throws. */
  record(record: DecisionRecord): void;
  /** The newest records for a digest, newest first, and where they came from. */
  recent(digest: Digest, limit: number): Promise<{ readonly records: readonly DecisionRecord[]; readonly from: 'redis' | 'memory' }>;
  /** The newest records across digests (the last RECENT_DECISIONS kept), filtered, newest first. */
  feed(query: FeedQuery): Promise<FeedPage>;
}

/** Records kept per digest, in memory and in Redis. */
export const DECISIONS_PER_DIGEST = 50;
/** Records kept in the feed across digests, in memory and (roughly: XADD MAXLEN ~) in Redis. */
export const RECENT_DECISIONS = 20_000;
const MEMORY_DIGESTS = 5_000;

/** Whether a record passes a feed query's filters (not `limit`). */
export function feedMatches(record: DecisionRecord, query: FeedQuery): boolean {
  if (query.since !== undefined && record.time < query.since) return false;
  if (query.outcome !== undefined && record.outcome !== query.outcome) return false;
  if (query.reason !== undefined && !record.reasons.some((r) => r.code === query.reason)) return false;
  return query.visible === undefined || query.visible(record.name);
}

/**
 * This replica's own rings: the last DECISIONS_PER_DIGEST records of each of the last
 * MEMORY_DIGESTS digests pulled, and the last `recentCap` records across digests.
 */
export function createMemoryDecisionLog(
  perDigest = DECISIONS_PER_DIGEST,
  digests = MEMORY_DIGESTS,
  recentCap = RECENT_DECISIONS,
): DecisionLog {
  const rings = new LRUCache<Digest, DecisionRecord[]>({ max: digests });
  const feed: DecisionRecord[] = []; // oldest first; trimmed in slices so a record costs O(1) on average
  return {
    record(record) {
      const ring = rings.get(record.digest) ?? [];
      ring.unshift(record);
      if (ring.length > perDigest) ring.length = perDigest;
      rings.set(record.digest, ring);
      feed.push(record);
      if (feed.length > recentCap + Math.ceil(recentCap / 10)) feed.splice(0, feed.length - recentCap);
    },
    recent: async (digest, limit) => ({ records: (rings.peek(digest) ?? []).slice(0, limit), from: 'memory' }),
    async feed(query) {
      const records: DecisionRecord[] = [];
      const oldest = Math.max(0, feed.length - recentCap);
      for (let i = feed.length - 1; i >= oldest; i -= 1) {
        const record = feed[i]!;
        if (query.since !== undefined && record.time < query.since) return { records, from: 'memory', exhausted: true };
        if (!feedMatches(record, query)) continue;
        records.push(record);
        if (records.length === query.limit) return { records, from: 'memory', exhausted: i === oldest };
      }
      return { records, from: 'memory', exhausted: true };
    },
  };
}
