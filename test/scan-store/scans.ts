// Records, requests and store openers for scan store tests.
import type { Digest } from '../../src/oci/reference.ts';
import { createRedisScanStore, type RedisScanStoreOptions } from '../../src/scan-store/redis-scan-store.ts';
import type { RedisConnectionOptions } from '../../src/redis/connection.ts';
import type { ScanRequest, ScanStore } from '../../src/scan-store/types.ts';
import type { ScanRecord } from '../../src/scan/types.ts';
import { client } from '../support/helpers.ts';

export const T0 = Date.parse('2030-01-01T00:00:00Z');
export const digest = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}`;

export const record = (overrides: Partial<ScanRecord> = {}): ScanRecord => ({
  digest: digest(1),
  scanner: 'trivy 0.50.0',
  finishedAt: T0,
  source: 'report',
  findings: [{ id: 'CVE-2030-0001', severity: 'HIGH', pkg: 'openssl', installed: '3.0.1', fixedIn: '3.0.2' }],
  counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 1, CRITICAL: 0 },
  ...overrides,
});

export const request = (n: number, overrides: Partial<ScanRequest> = {}): ScanRequest => ({
  digest: digest(n),
  canonicalName: `docker.io/library/app${n}`,
  upstream: 'docker',
  requestedAt: T0 + n,
  ...overrides,
});

export type StoreSetup = Partial<Omit<RedisScanStoreOptions, 'redis' | 'subscriber' | 'prefix'>> & {
  readonly connection?: RedisConnectionOptions;
};

/** A Redis scan store with its own command and subscriber connections, as a replica would have. */
export async function openScanStore(
  defer: (c: () => unknown) => void,
  url: string,
  prefix: string,
  setup: StoreSetup = {},
): Promise<ScanStore> {
  const { connection, ...options } = setup;
  const redis = await client(defer, url, connection);
  const subscriber = await client(defer, url, connection);
  const store = await createRedisScanStore({ ...options, redis, subscriber, prefix });
  defer(() => store.close());
  return store;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
