// Shared shapes of the benchmark harness.
import type { LoadTool } from './load.ts';
import type { BenchSigner } from './signing.ts';

/** One load-generator run against one URL, parsed from the tool's output (or one batch of timed fetches). */
export interface LoadResult {
  /** The load generator that produced it ("node fetch" for cold-verification). */
  tool: string;
  /** null when the measurement is not a throughput run (cold-verification sends one request at a time). */
  requestsPerSec: number | null;
  p50Ms: number;
  p99Ms: number;
  /** Responses wrk counted as errors by status ("Non-2xx or 3xx responses": in practice status >= 400). */
  non2xx: number;
  /** Total requests completed in the run. */
  requests: number;
  /** wrk's socket errors (connect + read + write + timeout). */
  socketErrors: number;
}

/** The same measurement taken directly on the registry and through trustgate. */
export interface ScenarioResult {
  direct: LoadResult;
  proxy: LoadResult;
}

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
}

/** What every scenario gets: both targets, the image, and a scratch dir. */
export interface BenchEnv {
  /** http://127.0.0.1:PORT of the registry. */
  registryUrl: string;
  /** 127.0.0.1:PORT, the registry as it appears in canonical image names (policy, key scopes, signatures). */
  registryHost: string;
  /** http://127.0.0.1:PORT of trustgate. */
  proxyUrl: string;
  /** Signed with the bench key, so trustgate serves it (warm path once checked). */
  image: BenchImage;
  /** Pushed under the same policy rule but never signed: trustgate must refuse it with 403. */
  unsignedImage: BenchImage;
  /** The bench key and the policy and trust-store files trustgate runs with. */
  signer: BenchSigner;
  /** Images pushed, signed and pulled once per round by cold-verification (--cold-images). */
  coldImages: number;
  /** Temp dir for scenario files (Lua scripts); removed at teardown. */
  workDir: string;
  load: LoadSettings;
}

export interface Scenario {
  /** kebab-case, used by --only and in the table. */
  name: string;
  /** One line: what is measured. */
  measures: string;
  /** Load generators it runs (installed before set-up when missing). */
  tools: readonly LoadTool[];
  /** Throws with a clear message when a target is not ready to be measured. */
  check(env: BenchEnv): Promise<void>;
  /** Optional untimed load on both targets before round 1 (JIT, connection pools, caches). */
  warmUp?(env: BenchEnv, seconds: number): Promise<void>;
  run(env: BenchEnv): Promise<ScenarioResult>;
}
