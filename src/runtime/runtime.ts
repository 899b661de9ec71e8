import type { AppDeps } from './app.ts';
import type { Config } from '../config/types.ts';
import { createSignatureGate } from '../gate/signature-gate.ts';
import { createHealthProvider, type HealthProvider } from '../health/report.ts';
import type { Logger } from '../log/logger.ts';
import { PolicyHolder } from '../policy-store/holder.ts';
import { loadPolicy } from '../policy-store/policy-file.ts';
import { ManifestCache } from '../pull/manifest-cache.ts';
import { openUpstreams } from '../pull/upstreams.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { compiledTrustCounts } from '../metrics/trust-counts.ts';
import { connectRedis, createRedis, warnOnEvictionPolicy, type RedisClient } from '../redis/connection.ts';
import { createMemoryAllowSets } from '../verdicts/memory-allow-sets.ts';
import { createRedisAllowSets } from '../verdicts/redis-allow-sets.ts';
import { createVerdictCache } from '../verdicts/verdict-cache.ts';
import { createMemoryScanStore } from '../scan-store/memory-scan-store.ts';
import { createRedisScanStore } from '../scan-store/redis-scan-store.ts';
import type { ScanStore } from '../scan-store/types.ts';
import { createAdminRouter } from '../admin/router.ts';
import { createAdminRateLimit } from '../admin/rate-limit.ts';
import { createMemoryAuditLog, createRedisAuditLog } from '../audit/index.ts';
import { createTokenVerifier } from '../admin/tokens.ts';
import { createPullAuth } from '../pullauth/index.ts';
import { loadKeysDir } from '../trust-store/keys-dir.ts';
import { createMemoryTrustStore } from '../trust-store/memory-trust-store.ts';
import { createRedisTrustStore } from '../trust-store/redis-trust-store.ts';
import type { TrustStore } from '../trust/types.ts';
import { compiledView } from '../trust/view.ts';
import { openControl, POLICY_TEXT } from './control.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';

export interface Runtime {
  readonly deps: AppDeps;
  readonly policy: PolicyHolder;
  readonly trust: TrustStore;
  readonly scans: ScanStore;
  /** Dependency health for /readyz's body and metrics; never makes the replica unready. */
  readonly health: HealthProvider;
  /** Re-reads `keys/` into the trust store (revocations stay). */
  reloadKeys(): Promise<void>;
  close(): Promise<void>;
}

const REDIS_WAIT_LOG_MS = 5_000;

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
  const policy = new PolicyHolder(
    () => loadPolicy(config.policyFile, (identity) => void parseTrustedIdentity(identity)),
    logger,
    POLICY_TEXT,
  );
  const fileEntries = loadKeysDir(config.keysDir);
  const connections: RedisClient[] = [];
  let trust: TrustStore;
  let scans: ScanStore;
  let shared: RedisClient | undefined;
  let onMissedPosts = (): void => {};
  if (config.redis.url !== undefined) {
    shared = createRedis(config.redis.url, { logger });
    const subscriber = createRedis(config.redis.url, { logger });
    connections.push(shared, subscriber);
    await untilConnected([shared, subscriber], logger);
    void warnOnEvictionPolicy(shared, logger);
    trust = await createRedisTrustStore({ redis: shared, subscriber, prefix, logger, now });
    const scanSubscriber = createRedis(config.redis.url, { logger });
    connections.push(scanSubscriber);
    scans = await createRedisScanStore({
      redis: shared,
      subscriber: scanSubscriber,
      prefix,
      logger,
      requeueAfterMs: config.scans.requeueAfterMs,
      onMissedPosts: () => onMissedPosts(),
    });
  } else {
    trust = createMemoryTrustStore({}, { logger });
    scans = createMemoryScanStore({ logger, now, requeueAfterMs: config.scans.requeueAfterMs });
  }
  if (fileEntries.length > 0) await trust.upsertFromFiles(fileEntries); // entries changed through the admin API win
  const control = await openControl({ config, redis: shared, prefix, policy, logger, now }); // an API policy wins over the file
  const { verdicts: verdictOptions } = config.gate;
  const trustView = compiledView(trust);
  const redisClient = shared;
  const metrics = createMetrics({
    trust: () => compiledTrustCounts(trustView()),
    policyHash: () => policy.current().hash,
    scanQueuePending: async () => (await scans.pending(1000).catch(() => [])).length,
    redisUp: () => (redisClient === undefined ? undefined : redisClient.status === 'ready' ? 1 : 0),
  });
  const verdicts = createVerdictCache({
    ...verdictOptions,
    logger,
    onLookup: metrics.cacheLookup,
    ...(shared === undefined ? {} : { redis: { client: shared, prefix } }),
  });
  const allowSets =
    shared === undefined ? createMemoryAllowSets({ now }) : createRedisAllowSets({ redis: shared, prefix, logger, local: { now } });
  trust.onChange(() => verdicts.clearLocal());
  onMissedPosts = () => verdicts.clearLocal();
  policy.onChange(() => verdicts.clearLocal());
  policy.onReloadFailed(() => metrics.reloadFailure('policy'));
  if (!config.gate.blobGate) {
    logger.warn(
      { event: 'blob_gate_off' },
      'gate.blobGate is false: any blob of an allowed repository is served, so the layers of a denied image can be pulled by digest',
    );
  }
  const upstreams = openUpstreams(config, logger, metrics);
  const health = createHealthProvider({ redis: shared, upstreams, trust, policy });
  const signatureGate = createSignatureGate({
    policy: () => policy.current(),
    trust: trustView,
    verdicts,
    allowSets,
    scans,
    clientFor: (name) => upstreams.get(name).client,
    limits: config.gate.discovery,
    allowTtlMs: verdictOptions.allowTtlMs,
    blobGate: config.gate.blobGate,
    breakGlass: control.breakGlass,
    now,
    logger,
    ...(options.onVerify === undefined ? {} : { onVerify: options.onVerify }),
    onVerified: metrics.verification,
    ...(redisClient === undefined ? {} : { sharedStateUp: async () => redisClient.status === 'ready' && (await health.redis()) === 'up' }),
  });
  const manifestCache = new ManifestCache(config.manifests.cacheMaxBytes, { tagTtlMs: config.manifests.tagTtlMs, now });
  const pullAuth =
    config.pullAuth === undefined
      ? undefined
      : await createPullAuth(config.pullAuth, { config, redis: shared, prefix, logger, now, metrics });
  const audit =
    shared === undefined
      ? createMemoryAuditLog({ maxEntries: config.audit.maxEntries, logger, now })
      : createRedisAuditLog({ redis: shared, prefix, maxEntries: config.audit.maxEntries, logger, now });
  const gate = control.wrap(signatureGate, audit); // break glass, and a record of each decision
  const admin =
    config.admin === undefined
      ? undefined
      : createAdminRouter({
          config,
          scans,
          upstreams,
          manifestCache,
          logger,
          now,
          verifyToken: createTokenVerifier(config.admin, logger),
          rateLimit: createAdminRateLimit({
            config: config.admin.rateLimit,
            redis: shared,
            prefix,
            logger,
            now,
            onThrottled: (reason) => metrics.adminThrottled(reason),
          }),
          robots: pullAuth?.robots,
          trust,
          trustDurable: shared !== undefined,
          audit,
          control: { ...control, policy, gate },
        });
  return {
    deps: {
      config,
      upstreams,
      gate,
      manifestCache,
      logger,
      metrics,
      ...(admin === undefined ? {} : { admin }),
      ...(pullAuth === undefined ? {} : { pullAuth }),
    },
    policy,
    trust,
    scans,
    health,
    async reloadKeys() {
      try {
        await trust.upsertFromFiles(loadKeysDir(config.keysDir));
      } catch (error) {
        metrics.reloadFailure('keys');
        throw error;
      }
    },
    async close() {
      await upstreams.close();
      await verdicts.close();
      await allowSets.close();
      await trust.close();
      await control.close();
      await scans.close();
      for (const connection of connections) connection.disconnect();
    },
  };
}

/**
 * Redis may come up after trustgate (a whole deployment starting at once): wait for it however long
 * it takes, while the listener answers 503 `starting`, instead of exiting after one connect timeout.
 * The clients reconnect on their own; this only logs every REDIS_WAIT_LOG_MS that it is still waiting.
 */
async function untilConnected(clients: readonly RedisClient[], logger: Logger): Promise<void> {
  for (;;) {
    try {
      await Promise.all(clients.map((client) => connectRedis(client, REDIS_WAIT_LOG_MS)));
      return;
    } catch (error) {
      if (clients.some((client) => client.status === 'end')) throw error;
      logger.warn({ event: 'redis_waiting', err: String(error) }, 'redis not reachable yet; still starting');
    }
  }
}
