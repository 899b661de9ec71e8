import type { AddressResolver } from '../upstream/egress.ts';
import type { AppDeps } from './app.ts';
import type { Config } from '../config/types.ts';
import { ConfigError } from '../input/config-error.ts';
import { createGate } from '../gate/create-gate.ts';
import { createPullEffects } from '../gate/effects.ts';
import { createHealthProvider, type HealthProvider } from '../health/report.ts';
import type { Logger } from '../log/logger.ts';
import { PolicyHolder } from '../policy-store/holder.ts';
import { loadPolicy } from '../policy-store/policy-file.ts';
import { ManifestCache } from '../pull/manifest-cache.ts';
import { openUpstreams } from '../pull/upstreams.ts';
import { openBlobStore } from '../blobcache/store.ts';
import { createStaticManifests } from '../pull/fail-static.ts';
import { createDecisionReporter } from '../pull/report.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { notifyingAudit, notifyPolicyFileReloads, openNotifier, startPeriodicChecks } from '../notify/index.ts';
import { compiledTrustCounts } from '../metrics/trust-counts.ts';
import type { ScanStore } from '../scan-store/types.ts';
import { createAdminRouter } from '../admin/router.ts';
import { createAdminRateLimit } from '../admin/rate-limit.ts';
import { createTokenVerifier } from '../admin/tokens.ts';
import { createPullAuth } from '../pullauth/index.ts';
import { loadKeysDir } from '../trust-store/keys-dir.ts';
import { createSigstoreTufRefresher } from '../trust-store/sigstore-tuf.ts';
import type { TrustStore } from '../trust/types.ts';
import { compiledView } from '../trust/view.ts';
import { openBackend, openVerdictCache } from './backend.ts';
import { controlDeps, policyText, sigstoreRootKind } from './control.ts';
import { checkKeylessRoots } from '../policy/parse.ts';
import { checkSetup, hasErrors, SetupError, type SetupProblem } from '../policy/setup-check.ts';
import type { Policy } from '../policy/types.ts';
import { logProblems, setupFacts } from './setup-check.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';

export interface Runtime {
  readonly deps: AppDeps;
  readonly policy: PolicyHolder;
  readonly trust: TrustStore;
  readonly scans: ScanStore;
  /** Where shared state lives, as openBackend chose. */
  readonly stateKind: 'memory' | 'redis';
  /** Dependency health for /readyz's body and metrics; never makes the replica unready. */
  readonly health: HealthProvider;
  /** Re-reads `keys/` into the trust store (revocations stay). */
  reloadKeys(): Promise<void>;
  /** The checks at start (config/README.md, "Checks at start") on the running policy and trust store, now. */
  setupProblems(): SetupProblem[];
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly now?: () => number;
  /** Overrides `redis.prefix`, so tests can share one server. */
  readonly redisPrefix?: string;
  readonly onVerify?: (canonicalName: string) => void;
  /**
   * Where upstream connections go (upstream/egress.ts). Only tests set it, to map a registry's
   * real host name (ghcr.io:443) to a local front, as curl's --connect-to does; the address
   * policy of redirects still applies to the mapped address.
   */
  readonly resolver?: AddressResolver;
}

/** Wires real adapters from a validated config: Redis-backed when `redis.url` is set, in memory otherwise. */
export async function buildRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const now = options.now ?? Date.now;
  // The trust store opens after the policy (the backend needs the holder): until then no root is known.
  let trustNow: (() => CompiledTrust) | undefined;
  const rootKind = sigstoreRootKind(() => trustNow?.());
  // The checks at start, once the trust store is open; until then a reload cannot happen.
  let vet: ((next: Policy) => void) | undefined;
  const policy = new PolicyHolder(
    () => loadPolicy(config.policyFile, (identity) => void parseTrustedIdentity(identity), rootKind),
    logger,
    { ...policyText(rootKind), vet: (next) => vet?.(next) },
  );
  const fileEntries = loadKeysDir(config.keysDir);
  // Redis or memory is decided there alone; an API policy is active before it resolves (it wins over the file).
  const backend = await openBackend(config, {
    logger,
    now,
    policy,
    ...(options.redisPrefix === undefined ? {} : { redisPrefix: options.redisPrefix }),
  });
  const { trust, scans, allowSets } = backend;
  try {
    if (fileEntries.length > 0) await trust.upsertFromFiles(fileEntries); // entries changed through the admin API win
  } catch (error) {
    await backend.close();
    throw error;
  }
  const { verdicts: verdictOptions } = config.gate;
  const trustView = compiledView(trust);
  trustNow = trustView;
  try {
    checkKeylessRoots(policy.current(), rootKind); // the check the first load could not make
  } catch (error) {
    await backend.close();
    throw error;
  }
  const setupProblems = (candidate: Policy): SetupProblem[] => checkSetup(candidate, setupFacts(config, trust.snapshot(), now()));
  const policyOf = (p: Policy): Record<string, unknown> => ({
    policy: p.hash,
    source: p === policy.current() ? policy.origin().source : 'file',
  });
  // Every problem is logged, with its field; an error refuses the start (exit 2, every problem on stderr).
  const atStart = setupProblems(policy.current());
  logProblems(logger, atStart, { when: 'start', ...policyOf(policy.current()) });
  if (hasErrors(atStart)) {
    await backend.close();
    throw new SetupError(atStart);
  }
  // A reloaded policy file with an error is refused like a file that does not compile: the running policy stays.
  vet = (next) => {
    const refused = setupProblems(next).filter((p) => p.severity === 'error' && p.field.startsWith('rules['));
    if (refused.length === 0) return;
    logProblems(logger, refused, { when: 'reload', ...policyOf(next) });
    throw new SetupError(refused);
  };
  const redisClient = backend.redis?.command;
  // Webhooks (docs/notifications.md), queued where the backend keeps state. Admin changes and
  // break-glass use reach them through the audit log, which already records each once.
  const notifier =
    config.notifications === undefined
      ? undefined
      : openNotifier(config.notifications, {
          redis: redisClient === undefined ? undefined : { client: redisClient, prefix: options.redisPrefix ?? config.redis.prefix },
          logger,
          now,
          resolver: options.resolver,
          onResult: (endpoint, result) => metrics.notification(endpoint, result), // first called after start(), below
        });
  const audit = notifier === undefined ? backend.audit : notifyingAudit(backend.audit, notifier, now);
  if (notifier !== undefined) notifyPolicyFileReloads(policy, notifier, now);
  // Off by default; on, a background loop keeps one sigstore-root up to date from TUF (docs/tuf-refresh.md).
  const tuf =
    config.trust.sigstoreTuf === undefined
      ? undefined
      : createSigstoreTufRefresher({
          ...config.trust.sigstoreTuf,
          trust,
          audit,
          logger,
          now,
          onResult: (result) => metrics.sigstoreRootRefresh(result), // first called after start(), below
        });
  const metrics = createMetrics(
    {
      trust: () => compiledTrustCounts(trustView()),
      policyHash: () => policy.current().hash,
      scanQueuePending: async () => (await scans.pending(1000).catch(() => [])).length,
      redisUp: () => (redisClient === undefined ? undefined : redisClient.status === 'ready' ? 1 : 0),
      ...(tuf === undefined
        ? {}
        : { sigstoreRoot: () => ({ root: tuf.root, ageSeconds: tuf.ageSeconds(), intervalSeconds: tuf.intervalMs / 1000 }) }),
      ...(notifier === undefined ? {} : { notificationQueueDepth: () => notifier.depths() }),
    },
    {
      upstreams: config.upstreams.map((u) => u.name),
      sharedVerdictCache: backend.verdictLayer !== undefined,
      blobCacheMaxBytes: config.blobCache.enabled ? config.blobCache.maxBytes : undefined,
      notificationEndpoints: config.notifications?.endpoints.map((e) => e.name),
    },
  );
  const verdicts = openVerdictCache(backend, policy, { ...verdictOptions, logger, onLookup: metrics.cacheLookup });
  policy.onReloadFailed(() => metrics.reloadFailure('policy'));
  if (!config.gate.blobGate) {
    logger.warn(
      { event: 'blob_gate_off' },
      'gate.blobGate is false: any blob of an allowed repository is served, so the layers of a denied image can be pulled by digest',
    );
  }
  const blobStore = config.blobCache.enabled
    ? await openBlobStore({
        directory: config.blobCache.directory,
        maxBytes: config.blobCache.maxBytes,
        logger,
        events: {
          evicted: metrics.blobCacheEvicted,
          verificationFailed: metrics.blobCacheVerificationFailed,
          bypassed: metrics.blobCacheBypassed,
          sizeChanged: metrics.blobCacheSize,
        },
      }).catch((error: unknown) => {
        // A directory trustgate cannot create or read at start is a setup error, named like any other (a read-only one opens: fills are bypassed and counted).
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        throw new ConfigError(config.source, 'blobCache.directory', `cannot open ${config.blobCache.directory} (${code})`);
      })
    : undefined;
  const upstreams = openUpstreams(config, logger, metrics, options.resolver, blobStore);
  const staticManifests =
    blobStore === undefined || !config.blobCache.failStatic
      ? undefined
      : createStaticManifests(
          blobStore,
          (name) => upstreams.get(name).client,
          config.manifests.maxBytes,
          logger,
          metrics.failStaticManifest,
        );
  const health = createHealthProvider({ redis: redisClient, upstreams, trust, policy });
  const sharedStateUp =
    redisClient === undefined ? undefined : async () => redisClient.status === 'ready' && (await health.redis()) === 'up';
  // The pull's real effects; explain gets none (gate/ports.ts NO_EFFECTS).
  const effects = createPullEffects({
    verdicts,
    allowSets,
    scans,
    audit,
    now,
    logger,
    onVerify: options.onVerify,
    onVerified: metrics.verification,
  });
  const gate = createGate(
    {
      policy: () => policy.current(),
      trust: trustView,
      verdicts,
      allowSets,
      scans,
      breakGlass: backend.breakGlass,
      clientFor: (name) => upstreams.get(name).client,
      limits: config.gate.discovery,
      allowTtlMs: verdictOptions.allowTtlMs,
      blobGate: config.gate.blobGate,
      sharedStateUp,
      now,
      logger,
    },
    effects,
  );
  const reporter = createDecisionReporter({
    logger,
    metrics,
    decisions: backend.decisions,
    now,
    ...(notifier === undefined ? {} : { onDenied: (denial) => notifier.denied(denial) }),
  });
  const manifestCache = new ManifestCache(config.manifests.cacheMaxBytes, { tagTtlMs: config.manifests.tagTtlMs, now });
  const pullAuth =
    config.pullAuth === undefined || backend.pullAuth === undefined
      ? undefined
      : await createPullAuth(config.pullAuth, { config, ...backend.pullAuth, logger, now });
  const admin =
    config.admin === undefined || backend.adminRateLimit === undefined
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
            stores: backend.adminRateLimit,
            logger,
            onThrottled: (reason) => metrics.adminThrottled(reason),
          }),
          robots: pullAuth?.robots,
          trust,
          trustDurable: backend.kind === 'redis',
          audit,
          control: controlDeps(backend, policy, gate),
        });
  tuf?.start(); // the first refresh runs in the background: start-up never waits on the network
  notifier?.start();
  const stopChecks =
    notifier === undefined || config.notifications === undefined
      ? undefined
      : startPeriodicChecks({
          expiry: { trust, notifier, warnDays: config.notifications.keyExpiry.warnDays, now },
          stall: { scans, notifier, afterMs: config.notifications.scanStall.afterMs, now },
          expiryIntervalMs: config.notifications.keyExpiry.checkIntervalMs,
          stallIntervalMs: config.notifications.scanStall.checkIntervalMs,
          logger,
        });
  return {
    deps: {
      config,
      upstreams,
      gate,
      manifestCache,
      logger,
      metrics,
      reporter,
      staticManifests,
      ...(admin === undefined ? {} : { admin }),
      ...(pullAuth === undefined ? {} : { pullAuth }),
    },
    policy,
    trust,
    scans,
    stateKind: backend.kind,
    health,
    setupProblems: () => setupProblems(policy.current()),
    async reloadKeys() {
      try {
        await trust.upsertFromFiles(loadKeysDir(config.keysDir));
      } catch (error) {
        metrics.reloadFailure('keys');
        throw error;
      }
    },
    async close() {
      stopChecks?.();
      await notifier?.close();
      await tuf?.stop();
      await upstreams.close();
      await blobStore?.close();
      await verdicts.close();
      await backend.close();
    },
  };
}
