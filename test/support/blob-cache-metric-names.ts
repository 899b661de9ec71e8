/**
 * The blob cache's metric names (docs/blob-cache.md "Metrics"), exported only with blobCache.enabled:
 * alerts and dashboards may use them (test/deploy/assets.test.ts), and test/e2e/blob-cache.test.ts
 * checks each against a live trustgate with the cache on.
 */
export const BLOB_CACHE_METRICS = [
  'trustgate_blob_cache_requests_total',
  'trustgate_blob_cache_served_bytes_total',
  'trustgate_blob_cache_evictions_total',
  'trustgate_blob_cache_evicted_bytes_total',
  'trustgate_blob_cache_verification_failures_total',
  'trustgate_blob_cache_bypassed_total',
  'trustgate_blob_cache_size_bytes',
  'trustgate_blob_cache_max_bytes',
  'trustgate_fail_static_manifests_total',
];
