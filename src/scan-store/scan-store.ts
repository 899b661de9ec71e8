import { createMemoryScanStore, type MemoryScanStoreOptions } from './memory-scan-store.ts';
import { createRedisScanStore, type RedisScanStoreOptions } from './redis-scan-store.ts';
import type { ScanStore } from './types.ts';

export interface ScanStoreSetup extends MemoryScanStoreOptions {
  /** The shared store; without it, scans live in this process only. */
  readonly redis?: Pick<RedisScanStoreOptions, 'redis' | 'subscriber' | 'prefix' | 'onMissedPosts' | 'connectTimeoutMs'>;
}

/** Redis-backed when `redis` is given, in memory otherwise (`now` and `maxRecords` apply to memory only). */
export async function createScanStore(setup: ScanStoreSetup): Promise<ScanStore> {
  const { redis, now, maxRecords, ...common } = setup;
  if (redis === undefined)
    return createMemoryScanStore({ ...common, ...(now === undefined ? {} : { now }), ...(maxRecords === undefined ? {} : { maxRecords }) });
  return createRedisScanStore({ ...common, ...redis });
}
