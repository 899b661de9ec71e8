// thundering-herd: a digest trustgate has never seen, pulled --herd (1000)
// times at once. Each round pushes and signs a fresh image, opens one
// connection per pull (undici Pool, `connections` = pulls) and sends every
// GET /v2/<repo>/manifests/<digest> before any answer comes back. trustgate's
// /metrics, scraped before and after, count the verifications and upstream
// requests by op; every answer must be 200 with the pushed manifest. Then the
// same against two more trustgate processes sharing the machine's Redis under
// a key prefix of this run's own (deleted at teardown), half the pulls each.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../../test/support/redis-keys.ts';
import { onCleanup } from '../cleanup.ts';
import { expectServed } from '../enforcement.ts';
import { CONTAINERD_ACCEPT } from '../http-scenario.ts';
import { delta, scrape } from '../metrics.ts';
import { redisReachable } from '../redis.ts';
import { startTrustgate } from '../setup.ts';
import { pushSmallImage, signImage } from '../signing.ts';
import type { BenchEnv, BenchImage, HerdRound, HerdShare, Scenario } from '../types.ts';

const REPOSITORY = 'bench/herd';
const KEEP_FAILURES = 3;

interface Replicas {
  urls: string[];
  prefix: string;
}

/** undefined until check(); then the replicas, or why there are none. */
let replicas: Replicas | { skipped: string } | undefined;
let images = 0;

async function freshImage(env: BenchEnv, label: string): Promise<BenchImage> {
  const n = ++images;
  const dir = join(env.workDir, 'herd', String(n));
  const image = await pushSmallImage(dir, env.registryUrl, REPOSITORY, `${label}-${n}`, `trustgate-bench-herd|${n}|${Date.now()}`);
  await rm(dir, { recursive: true, force: true });
  await signImage(env.signer, env.registryUrl, env.registryHost, REPOSITORY, image.digest);
  return image;
}

async function startReplicas(env: BenchEnv): Promise<Replicas | { skipped: string }> {
  const why = await redisReachable(REDIS_URL);
  if (why !== undefined) return { skipped: `Redis at ${REDIS_URL} is not reachable (${why})` };
  const prefix = testPrefix('bench');
  onCleanup(`Redis keys ${prefix}*`, () => deleteRedisKeys(prefix));
  const extra = ['redis:', `  url: ${JSON.stringify(REDIS_URL)}`, `  prefix: ${JSON.stringify(prefix)}`];
  const urls: string[] = [];
  for (const n of [1, 2])
    urls.push((await startTrustgate(env.workDir, env.registryUrl, env.signer, env.serverCpu, `replica-${n}`, extra)).url);
  return { urls, prefix };
}

/** Sends `pulls` GETs of the manifest by digest to `baseUrl` at once, over as many connections. */
async function herd(baseUrl: string, image: BenchImage, pulls: number): Promise<{ ok: number; failures: string[]; failed: number }> {
  const pool = new Pool(baseUrl, { connections: pulls, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const path = `/v2/${image.repository}/manifests/${image.digest}`;
  const one = async (): Promise<string | undefined> => {
    try {
      const res = await pool.request({ path, method: 'GET', headers: { accept: CONTAINERD_ACCEPT } });
      const body = Buffer.from(await res.body.arrayBuffer());
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      if (res.statusCode === 200 && digest === image.digest) return undefined;
      return `${res.statusCode}: ${res.statusCode === 200 ? `body ${digest}` : body.toString('utf8', 0, 200)}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  try {
    const outcomes = await Promise.all(Array.from({ length: pulls }, one));
    const failures = outcomes.filter((o): o is string => o !== undefined);
    return { ok: pulls - failures.length, failures: failures.slice(0, KEEP_FAILURES), failed: failures.length };
  } finally {
    await pool.close();
  }
}

/** One herd spread evenly over `processes` (label → base URL), all at once. */
async function measure(processes: Array<[string, string]>, image: BenchImage, pulls: number): Promise<{ shares: HerdShare[]; ms: number }> {
  const before = await Promise.all(processes.map(([, url]) => scrape(url)));
  const started = performance.now();
  const answers = await Promise.all(
    processes.map(([, url], i) => {
      const share = Math.floor(pulls / processes.length) + (i < pulls % processes.length ? 1 : 0);
      return herd(url, image, share).then((got) => ({ ...got, pulls: share }));
    }),
  );
  const ms = Math.round(performance.now() - started);
  const after = await Promise.all(processes.map(([, url]) => scrape(url)));
  const shares = processes.map(([label], i): HerdShare => {
    const counted = delta(before[i]!, after[i]!);
    const answer = answers[i]!;
    const failures =
      answer.failed > answer.failures.length ? [...answer.failures, `… ${answer.failed - answer.failures.length} more`] : answer.failures;
    return {
      process: label,
      pulls: answer.pulls,
      ok: answer.ok,
      failures,
      verifications: counted.verifications,
      upstream: counted.upstream,
    };
  });
  return { shares, ms };
}

export const thunderingHerd: Scenario = {
  name: 'thundering-herd',
  measures:
    'concurrent GETs by digest of a manifest never seen before, all sent at once: verifications and upstream requests per trustgate process',
  tools: [],
  async check(env) {
    replicas ??= await startReplicas(env);
    const probe = await freshImage(env, 'probe');
    const byDigest = `/v2/${probe.repository}/manifests/${probe.digest}`;
    await expectServed('thundering-herd via trustgate', `${env.proxyUrl}${byDigest}`, probe);
    if ('urls' in replicas) {
      for (const [i, url] of replicas.urls.entries())
        await expectServed(`thundering-herd via replica ${i + 1}`, `${url}${byDigest}`, probe);
    }
  },
  async run(env): Promise<HerdRound> {
    if (replicas === undefined) throw new Error('thundering-herd: check() runs first');
    const single = await measure([['trustgate', env.proxyUrl]], await freshImage(env, 'herd'), env.herdPulls);
    if ('skipped' in replicas) return { kind: 'herd', single, replicas };
    const labelled = replicas.urls.map((url, i): [string, string] => [`replica ${i + 1}`, url]);
    return { kind: 'herd', single, replicas: await measure(labelled, await freshImage(env, 'herd'), env.herdPulls) };
  },
};
