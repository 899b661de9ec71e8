import type { AppDeps } from './app.ts';
import type { Config } from './config/types.ts';
import { createSignatureGate } from './gate/index.ts';
import type { Logger } from './log/logger.ts';
import { PolicyHolder } from './policy/holder.ts';
import { loadPolicy } from './policy/load.ts';
import { ManifestCache } from './proxy/manifest-cache.ts';
import { openUpstreams } from './proxy/upstreams.ts';
import { connectRedis, createMemoryAllowSets, createRedis, createRedisAllowSets, createVerdictCache, warnOnEvictionPolicy, type RedisClient } from './state/index.ts';
import { loadKeysDir } from './trust/keys-dir.ts';
import { createMemoryTrustStore } from './trust/memory-trust-store.ts';
import { createRedisTrustStore } from './trust/redis-trust-store.ts';
import type { TrustStore } from './trust/types.ts';
import { compiledView } from './trust/view.ts';
import { parseTrustedIdentity } from './verify/notation/index.ts';

export interface Runtime {
  readonly deps: AppDeps;
  readonly policy: PolicyHolder;
  readonly trust: TrustStore;
  /** Re-reads `keys/` into the trust store (revocations stay). */
  reloadKeys(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly now?: () => number;
  /** Overrides `redis.prefix`, so tests can share one server. */
  readonly redisPrefix?: string;
  readonly onVerify?: (canonicalName: string) => void;
}

/** Wires real adapters from a validated config: Redis-backed when `redis.url` is set, in memory otherwise. */
export async function buildRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const now = options.now ?? Date.now;
  const prefix = options.redisPrefix ?? config.redis.prefix;
  const policy = new PolicyHolder(() => loadPolicy(config.policyFile, (identity) => void parseTrustedIdentity(identity)), logger);
  const fileEntries = loadKeysDir(config.keysDir);
  const connections: RedisClient[] = [];
  let trust: TrustStore;
  let shared: RedisClient | undefined;
  if (config.redis.url !== undefined) {
    shared = createRedis(config.redis.url, { logger });
    const subscriber = createRedis(config.redis.url, { logger });
    connections.push(shared, subscriber);
    await Promise.all([connectRedis(shared), connectRedis(subscriber)]);
    void warnOnEvictionPolicy(shared, logger);
    trust = await createRedisTrustStore({ redis: shared, subscriber, prefix, logger, now });
  } else {
    trust = createMemoryTrustStore({}, { logger });
  }
  if (fileEntries.length > 0) await trust.upsert(fileEntries);
  const { verdicts: verdictOptions } = config.gate;
  const verdicts = createVerdictCache({ ...verdictOptions, logger, ...(shared === undefined ? {} : { redis: { client: shared, prefix } }) });
  const allowSets = shared === undefined ? createMemoryAllowSets({ now }) : createRedisAllowSets({ redis: shared, prefix, logger, local: { now } });
  trust.onChange(() => verdicts.clearLocal());
  policy.onChange(() => verdicts.clearLocal());
  const upstreams = openUpstreams(config, logger);
  const gate = createSignatureGate({
    policy: () => policy.current(),
    trust: compiledView(trust),
    verdicts,
    allowSets,
    clientFor: (name) => upstreams.get(name).client,
    limits: config.gate.discovery,
    allowTtlMs: verdictOptions.allowTtlMs,
    blobGate: config.gate.blobGate,
    now,
    logger,
    ...(options.onVerify === undefined ? {} : { onVerify: options.onVerify }),
  });
  return {
    deps: { config, upstreams, gate, manifestCache: new ManifestCache(config.manifests.cacheMaxBytes), logger },
    policy,
    trust,
    async reloadKeys() {
      await trust.upsert(loadKeysDir(config.keysDir));
    },
    async close() {
      await upstreams.close();
      await verdicts.close();
      await allowSets.close();
      await trust.close();
      for (const connection of connections) connection.disconnect();
    },
  };
}
