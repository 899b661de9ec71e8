// cold-verification: the first pull of an image trustgate has never seen. Each
// round pushes and signs --cold-images fresh images (untimed), then, one image
// at a time, times one GET by tag on the registry and then one through
// trustgate, which resolves the tag upstream, fetches the manifest, discovers
// the signature, verifies it and evaluates the policy. Interleaving per
// image keeps slow drift on the machine from favouring either side. trustgate's
// /metrics, scraped before and after, tell how many upstream requests it made
// per pull and how long it waited on them: the row's "beyond upstream" figure.
// Three variants, one scenario each, differing only in the signature:
//   cold-verification                 a cosign `.sig` signed with the bench key (rule "bench");
//   cold-verification-keyless         a cosign `.sig` signed keyless: leaf + chain annotations, SCT, Rekor SET;
//   cold-verification-keyless-bundle  a sigstore bundle v0.3 referrer signed keyless: leaf, SCT, Rekor SET,
//                                     inclusion proof and checkpoint (rule "keyless", see ../keyless.ts).
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expectServed } from '../enforcement.ts';
import { CONTAINERD_ACCEPT } from '../http-scenario.ts';
import { KEYLESS_PREFIX, pushKeylessBundle, signKeylessSig } from '../keyless.ts';
import { delta, scrape } from '../metrics.ts';
import { pushSmallImage, signImage } from '../signing.ts';
import type { PushedImage } from '../signing.ts';
import type { BenchEnv, BenchImage, ColdRound, LoadResult, Scenario, UpstreamShare } from '../types.ts';

export const COLD_TOOL = 'node fetch';

interface ColdVariant {
  name: string;
  /** Where its images go: the policy rule covering it decides what trustgate asks for. */
  repository: string;
  measures: string;
  /** Signs a freshly pushed image (untimed). */
  sign(env: BenchEnv, image: PushedImage): Promise<void>;
}

/** Batches made so far in this run, over every variant: every batch gets new seeds and tags, so new digests. */
let batches = 0;

/** Pushes and signs `count` images trustgate has never seen, tagged `<label>-<batch>-<i>`. */
async function freshImages(env: BenchEnv, variant: ColdVariant, count: number, label: string): Promise<BenchImage[]> {
  const batch = ++batches;
  const images: BenchImage[] = [];
  for (let i = 1; i <= count; i++) {
    const dir = join(env.workDir, 'cold', `${batch}-${i}`);
    const image = await pushSmallImage(
      dir,
      env.registryUrl,
      variant.repository,
      `${label}-${batch}-${i}`,
      `trustgate-bench-cold|${batch}|${i}`,
    );
    await rm(dir, { recursive: true, force: true });
    await variant.sign(env, image);
    images.push(image);
  }
  return images;
}

const byTag = (base: string, image: BenchImage): string => `${base}/v2/${image.repository}/manifests/${image.tag}`;

type Timed = { ms: number; ok: boolean } | { failed: string };

/** One GET, timed from the call to the last body byte; ok when 200 with the image's manifest. */
async function timedGet(url: string, image: BenchImage): Promise<Timed> {
  const start = performance.now();
  let status: number;
  let body: Buffer;
  try {
    const res = await fetch(url, { headers: { Accept: CONTAINERD_ACCEPT }, signal: AbortSignal.timeout(30_000) });
    status = res.status;
    body = Buffer.from(await res.arrayBuffer());
  } catch (error) {
    return { failed: `GET ${url}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const ms = performance.now() - start;
  const ok = status === 200 && `sha256:${createHash('sha256').update(body).digest('hex')}` === image.digest;
  return { ms, ok };
}

/** Nearest-rank percentile (p in (0, 1]) of ascending values: with 40 samples, p99 is the slowest. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function summarizeTimings(timings: readonly Timed[]): LoadResult {
  const latencies = timings.flatMap((t) => ('ms' in t ? [t.ms] : [])).sort((a, b) => a - b);
  const failures = timings.flatMap((t) => ('failed' in t ? [t.failed] : []));
  if (latencies.length === 0) throw new Error(`cold-verification: every request failed, first: ${failures[0]}`);
  const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    tool: COLD_TOOL,
    requestsPerSec: null,
    bytesPerSec: null,
    p50Ms: round3(percentile(latencies, 0.5)),
    p95Ms: round3(percentile(latencies, 0.95)),
    p99Ms: round3(percentile(latencies, 0.99)),
    non2xx: timings.filter((t) => 'ms' in t && !t.ok).length,
    requests: latencies.length,
    socketErrors: failures.length,
  };
}

/** Per image: direct, then via trustgate, one request at a time. */
async function pullEach(env: BenchEnv, images: readonly BenchImage[]): Promise<{ direct: Timed[]; proxy: Timed[] }> {
  const direct: Timed[] = [];
  const proxy: Timed[] = [];
  for (const image of images) {
    direct.push(await timedGet(byTag(env.registryUrl, image), image));
    proxy.push(await timedGet(byTag(env.proxyUrl, image), image));
  }
  return { direct, proxy };
}

function coldScenario(variant: ColdVariant): Scenario {
  return {
    name: variant.name,
    measures: variant.measures,
    tools: [],
    async check(env) {
      // A probe image of its own: the measured ones must stay unseen until their round.
      const [probe] = await freshImages(env, variant, 1, 'probe');
      await expectServed(`${variant.name} direct`, byTag(env.registryUrl, probe!), probe!);
      await expectServed(`${variant.name} via trustgate`, byTag(env.proxyUrl, probe!), probe!);
    },
    async warmUp(env, seconds) {
      // Untimed first pulls of throwaway images, so JIT and connection pools are warm, not the verdicts.
      const until = performance.now() + seconds * 1000;
      do await pullEach(env, await freshImages(env, variant, 1, 'warmup'));
      while (performance.now() < until);
    },
    async run(env): Promise<ColdRound> {
      const images = await freshImages(env, variant, env.coldImages, 'cold');
      const before = await scrape(env.proxyUrl);
      const timings = await pullEach(env, images);
      const counted = delta(before, await scrape(env.proxyUrl));
      const pulls = images.length;
      const round2 = (n: number): number => Math.round(n * 100) / 100;
      const upstream: UpstreamShare = {
        requestsPerPull: round2(counted.upstreamRequests / pulls),
        msPerPull: round2((counted.upstreamSeconds * 1000) / pulls),
        verificationMs: counted.verifications > 0 ? round2((counted.verificationSeconds * 1000) / counted.verifications) : 0,
      };
      return { kind: 'cold', direct: summarizeTimings(timings.direct), trustgate: summarizeTimings(timings.proxy), upstream };
    },
  };
}

export const coldVerification = coldScenario({
  name: 'cold-verification',
  repository: 'bench/cold',
  measures:
    'first GET by tag of a freshly signed image, one at a time: through trustgate this includes fetching the manifest, discovering and verifying the cosign signature (bench key) and evaluating the policy',
  sign: (env, image) => signImage(env.signer, env.registryUrl, env.registryHost, image.repository, image.digest),
});

export const coldVerificationKeyless = coldScenario({
  name: 'cold-verification-keyless',
  repository: `${KEYLESS_PREFIX}/cold-sig`,
  measures:
    'as cold-verification, signed keyless as a cosign .sig (leaf with SCT, chain, Rekor SET): the chain, SCT, SET, log binding and identity are verified',
  sign: (env, image) => signKeylessSig(env.signer.sigstore, env.registryUrl, env.registryHost, image.repository, image.digest),
});

export const coldVerificationKeylessBundle = coldScenario({
  name: 'cold-verification-keyless-bundle',
  repository: `${KEYLESS_PREFIX}/cold-bundle`,
  measures:
    'as cold-verification, signed keyless as a sigstore bundle v0.3 referrer (leaf with SCT, Rekor SET, inclusion proof, checkpoint): found through the referrers fallback tag',
  sign: (env, image) => pushKeylessBundle(env.signer.sigstore, env.registryUrl, image, image.manifestBytes),
});
