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

export interface DecisionLog {
  /** Keeps a record; never waits for Redis, never throws. */
  record(record: DecisionRecord): void;
  /** The newest records for a digest, newest first, and where they came from. */
  recent(digest: Digest, limit: number): Promise<{ readonly records: readonly DecisionRecord[]; readonly from: 'redis' | 'memory' }>;
}

/** Records kept per digest, in memory and in Redis. */
export const DECISIONS_PER_DIGEST = 50;
const MEMORY_DIGESTS = 5_000;

/** This replica's own ring: the last DECISIONS_PER_DIGEST records of each of the last MEMORY_DIGESTS digests pulled. */
export function createMemoryDecisionLog(perDigest = DECISIONS_PER_DIGEST, digests = MEMORY_DIGESTS): DecisionLog {
  const rings = new LRUCache<Digest, DecisionRecord[]>({ max: digests });
  return {
    record(record) {
      const ring = rings.get(record.digest) ?? [];
      ring.unshift(record);
      if (ring.length > perDigest) ring.length = perDigest;
      rings.set(record.digest, ring);
    },
    recent: async (digest, limit) => ({ records: (rings.peek(digest) ?? []).slice(0, limit), from: 'memory' }),
  };
}
