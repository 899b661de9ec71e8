import { noopLogger, type Logger } from '../log/logger.ts';
import { compareIds, logEntry, makeEntry } from './audit-entry.ts';
import { collectPage } from './audit-page.ts';
import type { AuditEntry, AuditLog } from './types.ts';

export interface MemoryAuditLogOptions {
  readonly maxEntries: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** The audit log of one process (no Redis): the newest `maxEntries`, gone at restart; the log output keeps every entry. */
export function createMemoryAuditLog(options: MemoryAuditLogOptions): AuditLog {
  const logger = options.logger ?? noopLogger;
  const now = options.now ?? Date.now;
  const entries: AuditEntry[] = []; // oldest first
  let lastMs = 0;
  let seq = 0;

  /** Stream-shaped ids, strictly increasing even when the clock stands still or steps back. */
  function nextId(time: number): string {
    if (time > lastMs) {
      lastMs = time;
      seq = 0;
    } else seq += 1;
    return `${lastMs}-${seq}`;
  }

  return {
    async append(event) {
      const time = now();
      const entry = makeEntry(nextId(time), time, event);
      logEntry(logger, entry);
      entries.push(entry);
      if (entries.length > options.maxEntries) entries.splice(0, entries.length - options.maxEntries);
    },
    page: (query) =>
      collectPage(query, async (before, count) => {
        const out: AuditEntry[] = [];
        for (let i = entries.length - 1; i >= 0 && out.length < count; i -= 1) {
          const entry = entries[i]!;
          if (before === undefined || compareIds(entry.id, before) < 0) out.push(entry);
        }
        return out;
      }),
  };
}
