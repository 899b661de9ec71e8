// Concurrency and "flat" bounds for the soak, with the reasons for each number.
import type { FlatBounds } from './soak-engine.ts';

/**
 * 200 in flight in CI, 500 in `npm run soak`. In CI the load loops and trustgate share one event
 * loop (startProxy), so trustgate is saturated long before 200: more in flight adds only queueing
 * in this same process. At 500 on a busy 2-CPU machine that queueing took cold pulls' p99 to ~30 s,
 * the length of trustgate's own upstream timeouts, so failures would come from the harness rather
 * than from trustgate; at 200 the same machine kept every p99 under ~12 s. The long run, with
 * trustgate in its own process, is where 500 concurrent pulls are measured.
 */
export const CI_CONCURRENCY = 200;

/**
 * CI samples this process (trustgate plus the load loops) with a forced full GC every third second
 * (resources.ts sampleSelfWithGc), which keeps RSS tracking live memory instead of V8's heap sizing:
 * - live heap after GC: +10 MB. Observed ±1.5 MB over 30 s. Cold pulls add entries to bounded
 *   caches (manifests, verdicts, tag hints, decision log, blob records), a few KB per image: at most
 *   600 images in 30 s, a few MB. A leak of 0.5 MB/s (e.g. 2 KB per request at 250 req/s)
 *   fails it: 1 MB/s of retained objects injected into a run gave +19 MB, failing it (RSS +18).
 * - RSS: +20 MB. Observed −5…+9 MB once warm; this catches what the heap check cannot (Buffers,
 *   sockets, native memory) from ~1 MB/s.
 * - descriptors: +20. Every connection is opened before the warm-up; the upstream pools
 *   (maxConcurrentRequests 64 for manifests, 64 for blobs) fill during it. Observed ±1 once warm;
 *   a descriptor leaked per request, or per error, passes 20 within seconds; 2 leaked a second
 *   injected into a run gave +42.
 */
export const CI_BOUNDS: FlatBounds = { rssBytes: 20 * 1_048_576, rssRatio: 0, fds: 20, liveHeapBytes: 10 * 1_048_576 };

/**
 * `npm run soak` samples trustgate's own process (/proc/<pid>), without forcing GC:
 * - RSS: +max(30 MB, 20%), about +50 MB at 500 in flight. With no forced GC, V8 grows its heap
 *   with the garbage rate: a 1-minute run grew +36 MB from the first third to the last while the
 *   CI run's live heap stayed flat. In 10 minutes that early growth falls in the first third (3.3
 *   minutes); a leak of 150 bytes per request at 1,000 req/s adds 60 MB between the thirds'
 *   midpoints (6.7 minutes apart) and fails it. Not yet calibrated on a full 10-minute run.
 * - descriptors: +20, as in CI; the client's sockets are in the soak's process, not counted.
 * Cold pulls run at 5 a second by default: ~3,000 new images in 10 minutes, some 10 MB of bounded
 * cache entries (see above), inside the RSS bound.
 */
export const LONG_BOUNDS: FlatBounds = { rssBytes: 30 * 1_048_576, rssRatio: 0.2, fds: 20 };
