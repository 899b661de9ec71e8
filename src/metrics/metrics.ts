import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from '../decision/decision.ts';
import { NO_BLOB_CACHE_METRICS, registerBlobCacheMetrics, type BlobCacheMetrics } from './blob-cache-metrics.ts';

export type UpstreamOp = 'manifest' | 'blob' | 'tags' | 'referrers' | 'token' | 'signature';
/**
 * Every kind of upstream failure, the closed set of `trustgate_upstream_errors_total{kind}`: each is
 * exported at 0 for every configured upstream from the first scrape. Add a new kind here.
 */
export const UPSTREAM_ERROR_KINDS = ['unreachable', 'timeout', 'bad_response', 'rate_limited', 'redirect_refused'] as const;
export type UpstreamErrorKind = (typeof UPSTREAM_ERROR_KINDS)[number];
/** The upstream operations trustgate times (`op` of trustgate_upstream_request_duration_seconds), each zeroed per upstream. */
const TIMED_UPSTREAM_OPS = ['manifest', 'blob', 'tags', 'referrers', 'signature'] as const satisfies readonly UpstreamOp[];
/** The route template of manifest pulls (server/route-template.ts), zeroed for the dashboard's pull latency panel. */
const MANIFEST_ROUTE = '/v2/<name>/manifests/<ref>';
const OUTCOMES = ['allow', 'deny', 'warn'] as const satisfies readonly Decision['outcome'][];
/** What a reload refused: the policy file, `keys/`, or the listener's certificate. */
export type ReloadKind = 'policy' | 'keys' | 'tls';

/** How one refresh of a sigstore-root from TUF ended (docs/tuf-refresh.md). */
export type SigstoreRootRefreshResult = 'ok' | 'failed' | 'unchanged';

/**
 * How one webhook delivery attempt, or a queued one, ended (docs/notifications.md "Metrics"), the
 * closed set of `trustgate_notifications_total{result}`.
 */
export const NOTIFICATION_RESULTS = ['delivered', 'retried', 'rejected', 'exhausted', 'refused', 'overflow'] as const;
export type NotificationResult = (typeof NOTIFICATION_RESULTS)[number];

/** Live values read at scrape time. */
export interface MetricSources {
  trust(): { readonly version: number; readonly active: number; readonly revoked: number };
  policyHash(): string;
  scanQueuePending(): Promise<number>;
  /** 1 up, 0 down, undefined when Redis is not configured (the gauge is then absent). */
  redisUp(): number | undefined;
  /**
   * The sigstore-root refreshed from TUF, when `trust.sigstoreTuf` is configured (the gauges are
   * absent otherwise): seconds since its last good refresh (or since it was loaded), and the interval.
   */
  sigstoreRoot?(): { readonly root: string; readonly ageSeconds: number; readonly intervalSeconds: number } | undefined;
  /** Webhook deliveries queued, by endpoint name, when `notifications` is configured (the gauge is absent otherwise). */
  notificationQueueDepth?(): Promise<Readonly<Record<string, number>>>;
}

/**
 * The label values known at start. Each series over them is exported at 0 from the first scrape, so
 * rate() and increase() count its first event and a ratio has its zero instead of no data.
 */
export interface KnownLabels {
  /** The configured upstreams' names. */
  readonly upstreams: readonly string[];
  /** Whether the verdict cache has its shared (Redis) layer, whose lookups are counted too. */
  readonly sharedVerdictCache: boolean;
  /** `blobCache.maxBytes` when the blob cache is on (its series are registered only then). */
  readonly blobCacheMaxBytes?: number | undefined;
  /** The configured webhook endpoints' names (`notifications.endpoints[].name`). */
  readonly notificationEndpoints?: readonly string[] | undefined;
}

/**
 * Every metric trustgate exports, on its own registry (no global default), recorded through
 * functions named after events. Labels are bounded: rule names come from the policy, reasons and
 * outcomes from closed sets, routes are templates; never an image name, tag or digest.
 */
export interface Metrics extends BlobCacheMetrics {
  readonly registry: Registry;
  decision(decision: Decision, upstream: string): void;
  /** A denied manifest pull, once per client, name and digest within a second (pull/report.ts decides what repeats). */
  deniedPull(decision: Decision, upstream: string): void;
  manifestRequest(method: string, upstream: string, status: number): void;
  blobBytes(upstream: string, bytes: number): void;
  requestDuration(route: string, method: string, seconds: number): void;
  verification(result: Decision['outcome'], seconds: number): void;
  cacheLookup(layer: 'memory' | 'redis', hit: boolean): void;
  upstreamRequest(upstream: string, op: UpstreamOp, seconds: number): void;
  upstreamError(upstream: string, kind: UpstreamErrorKind): void;
  reloadFailure(kind: ReloadKind): void;
  adminThrottled(reason: 'failed_auth' | 'requests'): void;
  sigstoreRootRefresh(result: SigstoreRootRefreshResult): void;
  /** A webhook delivery to the endpoint named (never its URL) ended so. */
  notification(endpoint: string, result: NotificationResult): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(sources: MetricSources, known: KnownLabels = { upstreams: [], sharedVerdictCache: false }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trustgate_' });
  const decisions = new Counter({
    name: 'trustgate_decisions_total',
    help: 'Manifest pull decisions by outcome and primary reason',
    labelNames: ['outcome', 'reason', 'rule', 'upstream'],
    registers: [registry],
  });
  const deniedPulls = new Counter({
    name: 'trustgate_denied_pulls_total',
    help: "Denied manifest pulls by primary reason; a client's repeats of one denied name and digest within a second (HEAD then GET) count once",
    labelNames: ['reason', 'upstream'],
    registers: [registry],
  });
  const manifests = new Counter({
    name: 'trustgate_manifest_requests_total',
    help: 'Manifest requests answered',
    labelNames: ['method', 'upstream', 'status'],
    registers: [registry],
  });
  const blobBytes = new Counter({
    name: 'trustgate_blob_bytes_total',
    help: 'Blob bytes streamed to clients',
    labelNames: ['upstream'],
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'trustgate_request_duration_seconds',
    help: 'Client request duration by route template',
    labelNames: ['route', 'method'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const verifications = new Histogram({
    name: 'trustgate_verification_duration_seconds',
    help: 'Time to verify a digest not in the verdict cache (discovery, signatures, scan)',
    labelNames: ['result'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const lookups = new Counter({
    name: 'trustgate_verdict_cache_lookups_total',
    help: 'Verdict cache lookups by layer and result',
    labelNames: ['layer', 'result'],
    registers: [registry],
  });
  const upstreamDurations = new Histogram({
    name: 'trustgate_upstream_request_duration_seconds',
    help: 'Upstream request duration',
    labelNames: ['upstream', 'op'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'trustgate_upstream_errors_total',
    help: 'Upstream failures by kind',
    labelNames: ['upstream', 'kind'],
    registers: [registry],
  });
  // Present at 0 from the first scrape (KnownLabels). Open-ended labels are not: a decision's reason
  // and rule, and a manifest answer's status, appear with their first event.
  for (const upstream of known.upstreams) {
    for (const kind of UPSTREAM_ERROR_KINDS) upstreamErrors.inc({ upstream, kind }, 0);
    for (const op of TIMED_UPSTREAM_OPS) upstreamDurations.zero({ upstream, op });
    for (const outcome of OUTCOMES) decisions.inc({ outcome, upstream }, 0);
    blobBytes.inc({ upstream }, 0);
  }
  for (const result of OUTCOMES) verifications.zero({ result });
  for (const method of ['GET', 'HEAD']) requests.zero({ route: MANIFEST_ROUTE, method });
  for (const layer of known.sharedVerdictCache ? (['memory', 'redis'] as const) : (['memory'] as const)) {
    for (const result of ['hit', 'miss']) lookups.inc({ layer, result }, 0);
  }
  const reloadFailures = new Counter({
    name: 'trustgate_reload_failures_total',
    help: 'Reloads refused (the previous policy, trust store or certificate stays)',
    labelNames: ['kind'],
    registers: [registry],
  });
  for (const kind of ['policy', 'keys', 'tls'] as const) reloadFailures.inc({ kind }, 0); // present from the start, so alerts can use increase()
  const adminThrottled = new Counter({
    name: 'trustgate_admin_throttled_total',
    help: 'Admin API calls refused with 429, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of ['failed_auth', 'requests'] as const) adminThrottled.inc({ reason }, 0);
  const sigstoreRefreshes = new Counter({
    name: 'trustgate_sigstore_root_refresh_total',
    help: 'Refreshes of the sigstore-root from its TUF repository, by result (failed: the last good root stays)',
    labelNames: ['result'],
    registers: [registry],
  });
  if (sources.sigstoreRoot !== undefined) {
    for (const result of ['ok', 'failed', 'unchanged'] as const) sigstoreRefreshes.inc({ result }, 0);
  }
  new Gauge({
    name: 'trustgate_sigstore_root_age_seconds',
    help: 'Seconds since the sigstore-root was last refreshed from TUF, or since it was loaded (absent without trust.sigstoreTuf)',
    labelNames: ['root'],
    registers: [registry],
    collect() {
      this.reset();
      const root = sources.sigstoreRoot?.();
      if (root !== undefined) this.set({ root: root.root }, root.ageSeconds);
    },
  });
  new Gauge({
    name: 'trustgate_sigstore_root_refresh_interval_seconds',
    help: 'The configured interval between refreshes of the sigstore-root from TUF (absent without trust.sigstoreTuf)',
    labelNames: ['root'],
    registers: [registry],
    collect() {
      this.reset();
      const root = sources.sigstoreRoot?.();
      if (root !== undefined) this.set({ root: root.root }, root.intervalSeconds);
    },
  });
  new Gauge({
    name: 'trustgate_trust_store_keys',
    help: 'Trust-store entries by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const trust = sources.trust();
      this.set({ status: 'active' }, trust.active);
      this.set({ status: 'revoked' }, trust.revoked);
    },
  });
  new Gauge({
    name: 'trustgate_trust_store_version',
    help: 'The trust store version this replica holds',
    registers: [registry],
    collect() {
      this.set(sources.trust().version);
    },
  });
  new Gauge({
    name: 'trustgate_policy_info',
    help: 'The policy this replica runs (value 1, labelled by hash)',
    labelNames: ['hash'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ hash: sources.policyHash() }, 1);
    },
  });
  new Gauge({
    name: 'trustgate_scan_queue_pending',
    help: 'Digests waiting for a scanner (counted up to 1000)',
    registers: [registry],
    async collect() {
      this.set(await sources.scanQueuePending());
    },
  });
  new Gauge({
    name: 'trustgate_redis_up',
    help: 'Whether this replica reaches Redis (absent without Redis)',
    registers: [registry],
    collect() {
      this.reset();
      const up = sources.redisUp();
      if (up !== undefined) this.set(up);
    },
  });
  const notifications = new Counter({
    name: 'trustgate_notifications_total',
    help: 'Webhook deliveries by configured endpoint name and result (retried, rejected, exhausted, refused and overflow are failures)',
    labelNames: ['endpoint', 'result'],
    registers: [registry],
  });
  for (const endpoint of known.notificationEndpoints ?? []) {
    for (const result of NOTIFICATION_RESULTS) notifications.inc({ endpoint, result }, 0);
  }
  new Gauge({
    name: 'trustgate_notification_queue_depth',
    help: "Webhook deliveries waiting or being retried, by endpoint (with Redis: every replica's, shared)",
    labelNames: ['endpoint'],
    registers: [registry],
    async collect() {
      this.reset();
      const depths = (await sources.notificationQueueDepth?.().catch(() => undefined)) ?? {};
      for (const [endpoint, depth] of Object.entries(depths)) this.set({ endpoint }, depth);
    },
  });
  const blobCache =
    known.blobCacheMaxBytes === undefined
      ? NO_BLOB_CACHE_METRICS
      : registerBlobCacheMetrics(registry, known.upstreams, known.blobCacheMaxBytes);
  return {
    ...blobCache,
    registry,
    decision: (d, upstream) => decisions.inc({ outcome: d.outcome, reason: d.reasons[0]?.code ?? 'none', rule: d.rule, upstream }),
    deniedPull: (d, upstream) => deniedPulls.inc({ reason: d.reasons[0]?.code ?? 'none', upstream }),
    manifestRequest: (method, upstream, status) => manifests.inc({ method, upstream, status: String(status) }),
    blobBytes: (upstream, bytes) => blobBytes.inc({ upstream }, bytes),
    requestDuration: (route, method, seconds) => requests.observe({ route, method }, seconds),
    verification: (result, seconds) => verifications.observe({ result }, seconds),
    cacheLookup: (layer, hit) => lookups.inc({ layer, result: hit ? 'hit' : 'miss' }),
    upstreamRequest: (upstream, op, seconds) => upstreamDurations.observe({ upstream, op }, seconds),
    upstreamError: (upstream, kind) => upstreamErrors.inc({ upstream, kind }),
    reloadFailure: (kind) => reloadFailures.inc({ kind }),
    adminThrottled: (reason) => adminThrottled.inc({ reason }),
    sigstoreRootRefresh: (result) => sigstoreRefreshes.inc({ result }),
    notification: (endpoint, result) => notifications.inc({ endpoint, result }),
  };
}
