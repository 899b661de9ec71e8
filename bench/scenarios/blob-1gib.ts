// blob-1gib: one big layer (--big-blob-mib, 1024 by default) of a signed image
// in bench/app, streamed whole --blob-streams times per target and round,
// interleaved per stream (direct, nginx, trustgate), by this process with
// node:http, which counts the bytes and drops them. While nginx or trustgate
// streams, their RSS is sampled every 100 ms: the row reports the growth over
// the sample taken just before the stream (the worst stream of the round).
// blob-1gib-cached: the same, with the second trustgate (blob cache on) as the
// trustgate target: its check's stream fills the cache, so the rounds stream
// the layer from the cache (#15: RSS growth < 50 MB, cached or not).
import { dirBytes } from '../blob-cache.ts';
import { blobPathOf, pushBlobImage } from '../blobs.ts';
import type { BlobImage } from '../blobs.ts';
import { expectServed } from '../enforcement.ts';
import { rssGrowthDuring } from '../proc-stats.ts';
import { streamGet } from '../stream.ts';
import type { Streamed } from '../stream.ts';
import { proxyOf, TARGETS, targetUrl } from '../types.ts';
import type { BenchEnv, LoadResult, LoadRound, ProxyChoice, Scenario, TargetName } from '../types.ts';
import { percentile } from './cold-verification.ts';

export const STREAM_TOOL = 'node http';
const RSS_SAMPLE_MS = 100;
let pushing: Promise<BlobImage> | undefined;
let pushed: BlobImage | undefined;
/** Target URLs whose stream of the blob was already checked (both scenarios check direct and nginx). */
const checked = new Set<string>();

type Outcome = Streamed | { failed: string };

async function stream(url: string, want: BlobImage, hash = false): Promise<Outcome> {
  try {
    return await streamGet(url, { hash });
  } catch (error) {
    return { failed: `GET ${url}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const good = (o: Outcome, want: BlobImage): boolean => 'status' in o && o.status === 200 && o.bytes === want.blob.size;

function summarize(name: string, outcomes: readonly Outcome[], want: BlobImage): LoadResult {
  const done = outcomes.flatMap((o) => ('status' in o ? [o] : []));
  const failed = outcomes.filter((o) => 'failed' in o);
  if (done.length === 0) throw new Error(`${name}: every stream failed, first: ${(failed[0] as { failed: string }).failed}`);
  const seconds = done.reduce((sum, o) => sum + o.ms, 0) / 1000;
  const durations = done.map((o) => o.ms).sort((a, b) => a - b);
  const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    tool: STREAM_TOOL,
    requestsPerSec: done.length / seconds,
    bytesPerSec: done.reduce((sum, o) => sum + o.bytes, 0) / seconds,
    p50Ms: round3(percentile(durations, 0.5)),
    p99Ms: round3(percentile(durations, 0.99)),
    non2xx: done.filter((o) => !good(o, want)).length,
    requests: done.length,
    socketErrors: failed.length,
  };
}

function bigBlobScenario(name: string, measures: string, proxy: ProxyChoice): Scenario {
  const urlOf = (env: BenchEnv, target: TargetName): string => (target === 'trustgate' ? proxyOf(env, proxy).url : targetUrl(env, target));
  return {
    name,
    measures,
    tools: ['nginx'],
    ...(proxy === 'cached' ? { cachedTrustgate: true } : {}),
    async check(env: BenchEnv) {
      pushing ??= pushBlobImage(env, 'blob-1gib', env.bigBlobMib);
      const want = (pushed = await pushing);
      const manifest = `/v2/${want.image.repository}/manifests/${want.image.tag}`;
      await expectServed(`${name} manifest via ${proxy}`, `${proxyOf(env, proxy).url}${manifest}`, want.image);
      for (const target of TARGETS) {
        const url = `${urlOf(env, target)}${blobPathOf(want)}`;
        if (checked.has(url)) continue;
        const got = await stream(url, want, true);
        if ('failed' in got) throw new Error(`${name} ${target}: ${got.failed}`);
        if (got.status !== 200 || got.digest !== want.blob.digest) {
          throw new Error(
            `${name} ${target}: GET ${url} answered ${got.status} with ${got.bytes} bytes hashing to ${got.digest}, expected 200 and ${want.blob.digest}`,
          );
        }
        checked.add(url);
      }
    },
    async run(env: BenchEnv): Promise<LoadRound> {
      const want = pushed;
      if (want === undefined) throw new Error(`${name}: the image was not pushed (check() runs first)`);
      const outcomes: Record<TargetName, Outcome[]> = { direct: [], nginx: [], trustgate: [] };
      const growth = { trustgate: 0, nginx: 0 };
      for (let i = 0; i < env.blobStreams; i++) {
        for (const target of TARGETS) {
          const url = `${urlOf(env, target)}${blobPathOf(want)}`;
          if (target === 'direct') {
            outcomes.direct.push(await stream(url, want));
            continue;
          }
          const pid = target === 'nginx' ? env.nginxPid : proxyOf(env, proxy).pid;
          const { result, growthMb } = await rssGrowthDuring(pid, RSS_SAMPLE_MS, () => stream(url, want));
          outcomes[target].push(result);
          growth[target] = Math.max(growth[target], growthMb);
        }
      }
      const cache = proxy === 'cached' ? env.cachedProxy : undefined;
      return {
        kind: 'load',
        direct: summarize(name, outcomes.direct, want),
        nginx: summarize(name, outcomes.nginx, want),
        trustgate: summarize(name, outcomes.trustgate, want),
        rssGrowthMb: growth,
        ...(cache === undefined ? {} : { cacheDirBytes: await dirBytes(cache.cacheDir) }),
      };
    },
  };
}

export const blob1Gib = bigBlobScenario(
  'blob-1gib',
  "GET of a 1 GiB layer streamed whole, one at a time: throughput, and the proxies' RSS growth while they stream it",
  'trustgate',
);

export const blob1GibCached = bigBlobScenario(
  'blob-1gib-cached',
  'the same through trustgate-cached (blobCache enabled), after the check stream filled its cache: throughput and RSS growth serving it from the cache',
  'cached',
);
