import { matches } from './audit-entry.ts';
import type { AuditEntry, AuditPage, AuditQuery } from './types.ts';

/** Entries strictly older than `before` (all when undefined), newest first, at most `count`. */
export type ReadBatch = (before: string | undefined, count: number) => Promise<readonly AuditEntry[]>;

/**
 * One page, newest first, with filters. A filtered page examines at most `maxScan` entries so a
 * rare actor never makes one request read the whole log: the page may then hold fewer than
 * `limit` entries, and `next` continues from the last entry examined.
 */
export async function collectPage(query: AuditQuery, read: ReadBatch, maxScan = 10_000): Promise<AuditPage> {
  const entries: AuditEntry[] = [];
  // `since` ends the read at the first older entry. Times are the appending replica's, not the ids' (Redis's clock), so filter by time only.
  let cursor = query.after;
  let examined = 0;
  const batch = Math.max(query.limit, 100);
  for (;;) {
    const chunk = await read(cursor, batch);
    for (const entry of chunk) {
      if (query.since !== undefined && entry.time < query.since) return { entries };
      examined += 1;
      cursor = entry.id;
      if (matches(entry, query)) entries.push(entry);
      if (entries.length === query.limit || examined >= maxScan) return { entries, ...(cursor === undefined ? {} : { next: cursor }) };
    }
    if (chunk.length < batch) return { entries };
  }
}
