import { LRUCache } from 'lru-cache';
import type { CachedVerdict } from './verdict-entry.ts';

/**
 * The in-process layer: an LRU bounded by entry count. Expiry is checked by the caller against
 * its own clock (`expiresAt`), so lru-cache's timers are not used.
 */
export interface MemoryVerdictLayer {
  get(id: string): CachedVerdict | undefined;
  set(id: string, entry: CachedVerdict): void;
  delete(id: string): void;
  clear(): void;
  readonly size: number;
}

export function createMemoryVerdictLayer(maxEntries: number): MemoryVerdictLayer {
  const lru = new LRUCache<string, CachedVerdict>({ max: maxEntries });
  return {
    get: (id) => lru.get(id),
    set: (id, entry) => void lru.set(id, entry),
    delete: (id) => void lru.delete(id),
    clear: () => lru.clear(),
    get size() {
      return lru.size;
    },
  };
}
