// Opens Redis trust stores for tests: each store gets its own command connection and its own
// subscriber, as separate replicas would.
import type { Logger } from '../../src/log/logger.ts';
import type { RedisConnectionOptions } from '../../src/redis/connection.ts';
import { createRedisTrustStore, type RedisTrustStoreOptions } from '../../src/trust-store/redis-trust-store.ts';
import type { TrustStore } from '../../src/trust/types.ts';
import { client } from '../support/helpers.ts';

export interface StoreOptions extends Partial<Pick<RedisTrustStoreOptions, 'now' | 'pollIntervalMs'>> {
  readonly logger?: Logger;
  readonly connection?: RedisConnectionOptions;
}

export async function openStore(
  defer: (c: () => unknown) => void,
  url: string,
  prefix: string,
  options: StoreOptions = {},
): Promise<TrustStore> {
  const redis = await client(defer, url, options.connection);
  const subscriber = await client(defer, url, options.connection);
  const store = await createRedisTrustStore({
    redis,
    subscriber,
    prefix,
    pollIntervalMs: options.pollIntervalMs ?? 0,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  defer(() => store.close());
  return store;
}
