import { Counter, Gauge, type Registry } from 'prom-client';

/** How a blob request met the cache: served from disk, from disk while the upstream was unreachable (fail static), fetched and filled, or proxied without filling (Range, HEAD). */
export const BLOB_CACHE_RESULTS = ['hit', 'static', 'miss', 'pass'] as const;
export type BlobCacheResult = (typeof BLOB_CACHE_RESULTS)[number];
export type BlobCacheBypass = 'disk_full' | 'read_only' | 'io_error';

/** The verified blob cache's metrics (docs/blob-cache.md "Metrics"); only registered when the cache is on. */
export interface BlobCacheMetrics {
  blobCacheRequest(upstream: string, result: BlobCacheResult): void;
  blobCacheServedBytes(upstream: string, bytes: number): void;
  blobCacheEvicted(count: number, bytes: number): void;
  blobCacheVerificationFailed(where: 'fill' | 'read'): void;
  blobCacheBypassed(reason: BlobCacheBypass): void;
  blobCacheSize(bytes: number): void;
  failStaticManifest(upstream: string): void;
}

export function registerBlobCacheMetrics(registry: Registry, upstreams: readonly string[], maxBytes: number): BlobCacheMetrics {
  const requests = new Counter({
    name: 'trustgate_blob_cache_requests_total',
    help: 'Blob requests by how the cache met them: hit, static (fail static, upstream unreachable), miss (filled), pass (Range or HEAD, not filled)',
    labelNames: ['upstream', 'result'],
    registers: [registry],
  });
  const served = new Counter({
    name: 'trustgate_blob_cache_served_bytes_total',
    help: 'Blob bytes served from the cache (trustgate_blob_bytes_total minus this came from the upstream)',
    labelNames: ['upstream'],
    registers: [registry],
  });
  const evictions = new Counter({
    name: 'trustgate_blob_cache_evictions_total',
    help: 'Cache entries evicted (least recently used)',
    registers: [registry],
  });
  const evictedBytes = new Counter({
    name: 'trustgate_blob_cache_evicted_bytes_total',
    help: 'Bytes of evicted cache entries',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'trustgate_blob_cache_verification_failures_total',
    help: 'Bytes that did not hash to their digest: from the upstream while filling, or on disk when first read',
    labelNames: ['where'],
    registers: [registry],
  });
  const bypassed = new Counter({
    name: 'trustgate_blob_cache_bypassed_total',
    help: 'Fills the cache gave up on because the disk failed (the pull went on from the upstream)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const size = new Gauge({ name: 'trustgate_blob_cache_size_bytes', help: 'Bytes of committed cache entries', registers: [registry] });
  new Gauge({ name: 'trustgate_blob_cache_max_bytes', help: 'blobCache.maxBytes', registers: [registry] }).set(maxBytes);
  const failStatic = new Counter({
    name: 'trustgate_fail_static_manifests_total',
    help: 'Manifests read from the fail-static copy by digest while their upstream was unreachable (the gate still decides each)',
    labelNames: ['upstream'],
    registers: [registry],
  });
  for (const upstream of upstreams) {
    for (const result of BLOB_CACHE_RESULTS) requests.inc({ upstream, result }, 0);
    served.inc({ upstream }, 0);
    failStatic.inc({ upstream }, 0);
  }
  for (const where of ['fill', 'read']) failures.inc({ where }, 0);
  for (const reason of ['disk_full', 'read_only', 'io_error']) bypassed.inc({ reason }, 0);
  return {
    blobCacheRequest: (upstream, result) => requests.inc({ upstream, result }),
    blobCacheServedBytes: (upstream, bytes) => served.inc({ upstream }, bytes),
    blobCacheEvicted: (count, bytes) => {
      evictions.inc(count);
      evictedBytes.inc(bytes);
    },
    blobCacheVerificationFailed: (where) => failures.inc({ where }),
    blobCacheBypassed: (reason) => bypassed.inc({ reason }),
    blobCacheSize: (bytes) => size.set(bytes),
    failStaticManifest: (upstream) => failStatic.inc({ upstream }),
  };
}

/** What the metrics record when the cache is off: nothing (the series are not registered). */
export const NO_BLOB_CACHE_METRICS: BlobCacheMetrics = {
  blobCacheRequest: () => {},
  blobCacheServedBytes: () => {},
  blobCacheEvicted: () => {},
  blobCacheVerificationFailed: () => {},
  blobCacheBypassed: () => {},
  blobCacheSize: () => {},
  failStaticManifest: () => {},
};
