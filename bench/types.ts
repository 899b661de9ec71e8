// Shared shapes of the benchmark harness.
import type { BenchTool } from './load.ts';
import type { BenchSigner } from './signing.ts';

/** Where a request goes: straight to the registry, through nginx, or through trustgate. */
export type TargetName = 'direct' | 'nginx' | 'trustgate';
export const TARGETS: readonly TargetName[] = ['direct', 'nginx', 'trustgate'];

/** One load-generator run against one URL, parsed from the tool's output (or one batch of timed requests). */
export interface LoadResult {
  /** The load generator that produced it ("node fetch" for cold-verification, "node http" for blob-1gib). */
  tool: string;
  /** null when the measurement is not a throughput run (cold-verification sends one request at a time). */
  requestsPerSec: number | null;
  /** Response body bytes per second (blob scenarios); null where it is not measured. */
  bytesPerSec: number | null;
  p50Ms: number;
  /** Measured where the tool gives it (cold-verification); absent elsewhere. */
  p95Ms?: number;
  p99Ms: number;
  /** Responses wrk counted as errors by status ("Non-2xx or 3xx responses": in practice status >= 400). */
  non2xx: number;
  /** Total requests completed in the run. */
  requests: number;
  /**
   * CPU time per completed request, µs, from /proc/<pid>/stat over the run: the registry's, and the
   * proxy's (nginx master + worker, or trustgate; 0 for direct). Absent where not measured.
   */
  cpuUsPerRequest?: { registry: number; proxy: number };
  /** wrk's socket errors (connect + read + write + timeout). */
  socketErrors: number;
}

/** RSS growth (max − baseline, MB) of the proxies while a big blob streamed through them; the worst stream of the round. */
export interface RssGrowth {
  trustgate: number;
  nginx: number;
}

/** A load scenario's round: the same load on each of the three targets, in TARGETS order. */
export interface LoadRound {
  kind: 'load';
  direct: LoadResult;
  nginx: LoadResult;
  trustgate: LoadResult;
  /** blob-1gib and blob-1gib-cached only. */
  rssGrowthMb?: RssGrowth;
  /** The -cached scenarios: bytes in the cached trustgate's blobCache.directory at the end of the round. */
  cacheDirBytes?: number;
}

/** trustgate's own account of a batch of first pulls, from /metrics deltas. */
export interface UpstreamShare {
  /** Upstream requests trustgate made per pull (every op). */
  requestsPerPull: number;
  /** Time trustgate spent waiting on those requests per pull, ms (sum of their durations). */
  msPerPull: number;
  /** Mean duration of one verification (discovery, signatures, policy), ms. */
  verificationMs: number;
}

/** cold-verification's round: one request at a time, direct then trustgate, per image. */
export interface ColdRound {
  kind: 'cold';
  direct: LoadResult;
  trustgate: LoadResult;
  upstream: UpstreamShare;
}

/** One trustgate process's part of a thundering herd. */
export interface HerdShare {
  /** "trustgate", or "replica 1", "replica 2". */
  process: string;
  /** Requests sent to this process. */
  pulls: number;
  /** 200 answers whose body hashed to the pushed digest. */
  ok: number;
  /** The first few failures, as text. */
  failures: string[];
  /** trustgate_verification_duration_seconds_count delta. */
  verifications: number;
  /** trustgate_upstream_request_duration_seconds_count delta by op (manifest, signature, referrers, blob, tags, token). */
  upstream: Record<string, number>;
}

/** thundering-herd's round: a single process, then (when Redis is there) two replicas sharing Redis. */
export interface HerdRound {
  kind: 'herd';
  /** Wall time from the first request sent to the last answer, per variant, ms. */
  single: { shares: HerdShare[]; ms: number };
  replicas: { shares: HerdShare[]; ms: number } | { skipped: string };
}

/** One run of sequential timed GETs of the 10 MiB blob (cold-start). */
export interface TimedSeries {
  /** Each GET from the call to the last body byte, in order, ms (the failed ones left out). */
  ms: number[];
  /** GETs that failed, answered other than 200, or with another size. */
  errors: number;
}

/** cold-start: GETs per series (#15 names the first 10 blobs after start). */
export const COLD_START_BLOBS = 10;

/** cold-start's round: a fresh trustgate process's first blob GETs against the long-running one's. */
export interface StartRound {
  kind: 'start';
  /** From spawning the process to its first 200 on /v2/ (polled every 100 ms), ms. */
  readyMs: number;
  /** The first manifest GET on the fresh process (verification included), ms; null when it failed. */
  manifestMs: number | null;
  /** The fresh process's first GETs of the blob. */
  first: TimedSeries;
  /** The same number of GETs on the long-running, warmed trustgate, each right after the fresh one's. */
  steady: TimedSeries;
}

export type ScenarioResult = LoadRound | ColdRound | HerdRound | StartRound;

/** The image pushed for the benchmark. */
export interface BenchImage {
  /** Repository name, e.g. "bench/app". */
  repository: string;
  tag: string;
  /** Digest of the top-level manifest. */
  digest: string;
  mediaType: string;
}

/** How load is generated; fixed for the whole run. */
export interface LoadSettings {
  durationSec: number;
  connections: number;
  /** `taskset -c` CPU list for wrk, or undefined to run unpinned. */
  cpu: string | undefined;
  /** wrk's threads: 1 when pinned to one CPU, 2 in the unpinned layout (as on a shared node). */
  wrkThreads: number;
}

/** What every scenario gets: the three targets, the image, and a scratch dir. */
export interface BenchEnv {
  /** http://127.0.0.1:PORT of the registry. */
  registryUrl: string;
  /** 127.0.0.1:PORT, the registry as it appears in canonical image names (policy, key scopes, signatures). */
  registryHost: string;
  /** The registry's pid (CPU accounting). */
  registryPid: number;
  /** http://127.0.0.1:PORT of trustgate. */
  proxyUrl: string;
  /** trustgate's pid (RSS and fd sampling). */
  proxyPid: number;
  /**
   * The second trustgate, with `blobCache.enabled: true` (the -cached scenarios' trustgate target); undefined
   * unless a selected scenario needs it.
   */
  cachedProxy: { url: string; pid: number; cacheDir: string } | undefined;
  /** http://127.0.0.1:PORT of nginx, a plain reverse proxy in front of the same registry. */
  nginxUrl: string;
  /** nginx's master pid (its worker is a child). */
  nginxPid: number;
  /** Signed with the bench key, so trustgate serves it (warm path once checked). */
  image: BenchImage;
  /** Pushed under the same policy rule but never signed: trustgate must refuse it with 403. */
  unsignedImage: BenchImage;
  /** The bench key and the policy and trust-store files trustgate runs with. */
  signer: BenchSigner;
  /** Images pushed, signed and pulled once per round by cold-verification (--cold-images). */
  coldImages: number;
  /** blob-1gib: size of the big blob in MiB (--big-blob-mib) and streams per target per round (--blob-streams). */
  bigBlobMib: number;
  blobStreams: number;
  /** thundering-herd: concurrent pulls (--herd). */
  herdPulls: number;
  /** CPU list trustgate runs on (extra replicas are pinned there too), or undefined. */
  serverCpu: string | undefined;
  /** Temp dir for scenario files (Lua scripts, blobs); removed at teardown. */
  workDir: string;
  load: LoadSettings;
}

/** The three URLs of a BenchEnv by target. */
export const targetUrl = (env: BenchEnv, target: TargetName): string =>
  target === 'direct' ? env.registryUrl : target === 'nginx' ? env.nginxUrl : env.proxyUrl;

/** Which trustgate process a load scenario measures as its "trustgate" target. */
export type ProxyChoice = 'trustgate' | 'cached';

/** The URL and pid of that process; throws when the cached one was not started. */
export function proxyOf(env: BenchEnv, choice: ProxyChoice): { url: string; pid: number } {
  if (choice === 'trustgate') return { url: env.proxyUrl, pid: env.proxyPid };
  if (env.cachedProxy === undefined) throw new Error('the cached trustgate was not started (the scenario must set cachedTrustgate)');
  return env.cachedProxy;
}

export interface Scenario {
  /** kebab-case, used by --only and in the tables. */
  name: string;
  /** One line: what is measured. */
  measures: string;
  /** Tools it runs (installed before set-up when missing). */
  tools: readonly BenchTool[];
  /** Set when it measures the second trustgate (blobCache enabled): set-up then starts it. */
  cachedTrustgate?: boolean;
  /** Throws with a clear message when a target is not ready to be measured (may push what the scenario needs first). */
  check(env: BenchEnv): Promise<void>;
  /** Optional untimed load on every target before round 1 (JIT, connection pools, caches). */
  warmUp?(env: BenchEnv, seconds: number): Promise<void>;
  run(env: BenchEnv): Promise<ScenarioResult>;
}
