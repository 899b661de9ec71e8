import type { DecisionRecord } from '../gate/decision-log.ts';

/*
 * The Overview page's numbers (GET /admin/v1/overview), computed from the decision feed across
 * digests: pulls and denials per time bucket by reason, and the most-denied images. Pure: the
 * caller reads the feed and passes `now`.
 */

export const HOUR_MS = 3_600_000;
export const FIVE_MINUTES_MS = 300_000;
/** Hourly buckets over the last day, five-minute buckets over the last hour. */
const HOURS = 24;
const FIVE_MINUTE_BUCKETS = 12;
export const MOST_DENIED = 10;

export interface Bucket {
  readonly start: string;
  readonly allow: number;
  /** Allowed by a rule in warn mode that would have denied. */
  readonly warn: number;
  readonly deny: number;
  /** Per outcome, per primary reason code (reasons[0], as trustgate_decisions_total counts). */
  readonly reasons: {
    readonly allow: Record<string, number>;
    readonly warn: Record<string, number>;
    readonly deny: Record<string, number>;
  };
}

export interface DecisionSummary {
  readonly hourly: readonly Bucket[];
  readonly fiveMinute: readonly Bucket[];
  readonly mostDenied: readonly { readonly name: string; readonly reason: string; readonly count: number }[];
}

/** Where the hourly buckets start: the last 24 hours, aligned to the hour (the last bucket is the current, partial hour). */
export const summaryStart = (now: number): number => Math.floor(now / HOUR_MS) * HOUR_MS - (HOURS - 1) * HOUR_MS;

const reasonOf = (r: DecisionRecord): string => r.reasons[0]?.code ?? 'none';

function buckets(records: readonly DecisionRecord[], now: number, size: number, count: number): Bucket[] {
  const first = Math.floor(now / size) * size - (count - 1) * size;
  const out = Array.from({ length: count }, (_, i) => ({
    start: first + i * size,
    allow: 0,
    warn: 0,
    deny: 0,
    reasons: { allow: {} as Record<string, number>, warn: {} as Record<string, number>, deny: {} as Record<string, number> },
  }));
  for (const r of records) {
    const i = Math.floor((r.time - first) / size);
    const bucket = out[i];
    if (bucket === undefined) continue;
    bucket[r.outcome] += 1;
    const reasons = bucket.reasons[r.outcome];
    reasons[reasonOf(r)] = (reasons[reasonOf(r)] ?? 0) + 1;
  }
  return out.map((b) => ({ ...b, start: new Date(b.start).toISOString() }));
}

/** Buckets and the most-denied images (name and primary reason) over `records`, which the caller read since summaryStart(now). */
export function summarize(records: readonly DecisionRecord[], now: number): DecisionSummary {
  const denied = new Map<string, { name: string; reason: string; count: number }>();
  for (const r of records) {
    if (r.outcome !== 'deny' || r.time < summaryStart(now)) continue;
    const key = JSON.stringify([r.name, reasonOf(r)]);
    const entry = denied.get(key) ?? { name: r.name, reason: reasonOf(r), count: 0 };
    entry.count += 1;
    denied.set(key, entry);
  }
  const mostDenied = [...denied.values()]
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name) || a.reason.localeCompare(b.reason))
    .slice(0, MOST_DENIED);
  return {
    hourly: buckets(records, now, HOUR_MS, HOURS),
    fiveMinute: buckets(records, now, FIVE_MINUTES_MS, FIVE_MINUTE_BUCKETS),
    mostDenied,
  };
}
