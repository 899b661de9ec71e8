import { noopLogger, type Logger } from '../log/logger.ts';
import { createListeners } from '../log/listeners.ts';
import { trustStoreClosed } from '../trust/trust-errors.ts';
import { apiKeptMessage, checkFileEntries, checkRevoke, makeSnapshot, normalizeEntry } from '../trust/trust-snapshot.ts';
import type { Revocation, TrustEntry, TrustSnapshot, TrustStore } from '../trust/types.ts';

export interface TrustStoreSeed {
  readonly entries?: readonly TrustEntry[];
  readonly revocations?: readonly Revocation[];
}

/**
 * The trust store for one process (no Redis), with the Redis store's semantics: a version bump
 * on every real change (a no-op upsert or a repeated revoke changes nothing), revocations that
 * nothing undoes, and an upsert of a revoked id that leaves the entry as it was.
 */
export function createMemoryTrustStore(initial: TrustStoreSeed = {}, options: { logger?: Logger } = {}): TrustStore {
  const logger = options.logger ?? noopLogger;
  const entries = new Map<string, TrustEntry>();
  const revocations = new Map<string, Revocation>();
  for (const e of initial.entries ?? []) entries.set(e.id, normalizeEntry(e));
  for (const r of initial.revocations ?? []) revocations.set(r.id, Object.freeze({ ...r }));
  const listeners = createListeners<TrustSnapshot>(logger, 'trust store', (s) => ({ version: s.version }));
  let current = makeSnapshot(0, entries.values(), revocations.values());
  let closed = false;

  function commit(): TrustSnapshot {
    current = makeSnapshot(current.version + 1, entries.values(), revocations.values());
    listeners.emit(current);
    return current;
  }

  function apply(operation: string, list: readonly TrustEntry[], keepApi: boolean): TrustSnapshot {
    if (closed) throw trustStoreClosed(operation);
    const normalized = list.map(normalizeEntry); // all or nothing: validate before changing anything
    let changed = false;
    const kept: string[] = [];
    for (const entry of normalized) {
      if (revocations.has(entry.id)) {
        logger.warn({ id: entry.id }, 'trust entry not updated: its id is revoked, and revocations are sticky');
        continue;
      }
      const before = entries.get(entry.id);
      if (keepApi && before?.origin === 'api') {
        kept.push(entry.id);
        continue;
      }
      if (before !== undefined && JSON.stringify(before) === JSON.stringify(entry)) continue;
      entries.set(entry.id, entry);
      changed = true;
    }
    if (kept.length > 0) logger.warn({ ids: kept }, apiKeptMessage);
    return changed ? commit() : current;
  }

  return {
    snapshot: () => current,
    upsert: async (list) => apply('upsert', list, false),
    upsertFromFiles: async (list) => apply('upsert from keys/', checkFileEntries(list), true),
    async revoke(id, reason, at) {
      if (closed) throw trustStoreClosed('revoke');
      checkRevoke(id, reason, at);
      if (revocations.has(id)) return current; // the first tombstone stays
      revocations.set(id, Object.freeze({ id, revokedAt: at, reason }));
      return commit();
    },
    onChange: (listener) => listeners.add(listener),
    async close() {
      closed = true;
      listeners.clear();
    },
  };
}
