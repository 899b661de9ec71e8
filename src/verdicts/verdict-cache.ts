import { noopLogger, type Logger } from '../log/logger.ts';
import { createMemoryVerdictLayer } from './memory-verdict-cache.ts';
import type { RedisVerdictLayer } from './redis-verdict-cache.ts';
import type { VerdictCache, VerdictCacheOptions } from './types.ts';
import { expiryOf, isUsable, stillAllows, validateOptions, verdictId } from './verdict-entry.ts';

export type VerdictLayerName = 'memory' | 'redis';

export interface VerdictCacheSetup extends VerdictCacheOptions {
  /**
   * The shared layer (redis-verdict-cache.ts, its index kept at least max(allowTtlMs, denyTtlMs));
   * without it the cache is this process's memory only.
   */
  readonly shared?: RedisVerdictLayer | undefined;
  readonly logger?: Logger;
  /** Called on every lookup of each layer consulted (for hit/miss metrics by layer). */
  readonly onLookup?: (layer: VerdictLayerName, hit: boolean) => void;
}

/**
 * Memory first, then Redis; a Redis hit is copied into memory with its original expiry. A put
 * writes both. Entries expire by the caller's `now`: allows at min(put time + allowTtlMs,
 * notAfter), denies at put time + denyTtlMs. `forgetDigest` drops a digest's verdicts under every
 * name, policy and trust version (a scan was posted); Redis keeps an index per digest for it.
 */
export function createVerdictCache(setup: VerdictCacheSetup): VerdictCache {
  validateOptions(setup);
  const logger = setup.logger ?? noopLogger;
  const memory = createMemoryVerdictLayer(setup.memoryEntries);
  const { shared } = setup;
  const looked = (layer: VerdictLayerName, hit: boolean): void => {
    try {
      setup.onLookup?.(layer, hit);
    } catch (error) {
      logger.error({ err: String(error) }, 'verdict cache onLookup callback failed');
    }
  };

  return {
    async get(key, now, id = verdictId(key)) {
      const local = memory.get(id);
      if (local !== undefined && isUsable(local, key, now)) {
        looked('memory', true);
        return local.decision;
      }
      if (local !== undefined) memory.delete(id);
      looked('memory', false);
      if (shared === undefined) return undefined;
      const remote = await shared.get(id);
      const hit = remote !== undefined && isUsable(remote, key, now);
      looked('redis', hit);
      if (!hit) return undefined;
      memory.set(id, remote, key.digest);
      return remote.decision;
    },
    async allows(id, now) {
      const local = memory.get(id);
      if (stillAllows(local, now)) return true;
      if (shared === undefined) return false;
      const remote = await shared.get(id);
      if (!stillAllows(remote, now) || remote?.decision.digest === undefined) return false;
      memory.set(id, remote, remote.decision.digest); // the next blob of this image asks memory only
      return true;
    },
    async put(key, decision, now, id = verdictId(key)) {
      const expiresAt = expiryOf(decision, now, setup);
      if (expiresAt === undefined) return;
      const entry = { decision, expiresAt };
      memory.set(id, entry, key.digest);
      await shared?.set(id, entry, expiresAt - now, key.digest);
    },
    clearLocal: () => memory.clear(),
    async forgetDigest(digest, everywhere) {
      memory.forgetDigest(digest);
      if (everywhere) await shared?.forgetDigest(digest);
    },
    async close() {
      memory.clear();
    },
  };
}
