// cold-start: how a trustgate process that has just started serves its first
// blobs (#15: the first 10 blob GETs after start ≤ 2× steady). Each round starts
// a fresh `node dist/main.js` with the main trustgate's config (its own port,
// pinned with the others), waits for /v2/ to answer 200, GETs the 10 MiB
// image's manifest (the blob gate serves a layer only after an allowed
// manifest names it; in a fresh process that pull verifies the signature
// afresh), then times COLD_START_BLOBS sequential GETs of the 10 MiB layer,
// each followed by the same GET on the long-running, warmed trustgate (the
// round's steady figure; alternating per GET, so drift on the machine affects
// both alike), and stops the process. Each series uses one keep-alive
// connection, opened by its first GET.
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { blobPathOf } from '../blobs.ts';
import type { BlobImage } from '../blobs.ts';
import { expectServed } from '../enforcement.ts';
import { CONTAINERD_ACCEPT } from '../http-scenario.ts';
import { startTrustgate } from '../setup.ts';
import type { RunningTrustgate } from '../setup.ts';
import { streamGet } from '../stream.ts';
import { COLD_START_BLOBS } from '../types.ts';
import type { BenchEnv, Scenario, StartRound, TimedSeries } from '../types.ts';
import { tenMibImage } from './blob-10mib.ts';

/** The fresh process's name: its config file (`cold-start.yaml`) and its teardown step. */
const NAME = 'cold-start';

let image: BlobImage | undefined;

const manifestPath = (b: BlobImage): string => `/v2/${b.image.repository}/manifests/${b.image.tag}`;

async function startFresh(env: BenchEnv): Promise<{ proxy: RunningTrustgate; readyMs: number }> {
  const started = performance.now();
  const proxy = await startTrustgate(env.workDir, env.registryUrl, env.signer, env.serverCpu, NAME);
  return { proxy, readyMs: performance.now() - started };
}

/** The manifest GET that allows the layer, timed to the last body byte; null unless 200 with the manifest. */
async function timedManifest(base: string, b: BlobImage): Promise<number | null> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${manifestPath(b)}`, { headers: { Accept: CONTAINERD_ACCEPT }, signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - started;
    return res.status === 200 && `sha256:${createHash('sha256').update(body).digest('hex')}` === b.image.digest ? ms : null;
  } catch {
    return null;
  }
}

/** One series of GETs of the layer over one keep-alive connection: `next()` sends the next one and records it. */
function series(base: string, b: BlobImage): { next(): Promise<void>; done(): TimedSeries } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const out: TimedSeries = { ms: [], errors: 0 };
  return {
    async next() {
      try {
        const got = await streamGet(`${base}${blobPathOf(b)}`, { agent, timeoutMs: 60_000 });
        if (got.status === 200 && got.bytes === b.blob.size) out.ms.push(got.ms);
        else out.errors++;
      } catch {
        out.errors++;
      }
    },
    done() {
      agent.destroy();
      return out;
    },
  };
}

/** Throws unless `base` serves the manifest and then the layer, whole and with its digest. */
async function expectBlob(where: string, base: string, b: BlobImage): Promise<void> {
  await expectServed(`${where}: manifest`, `${base}${manifestPath(b)}`, b.image);
  const url = `${base}${blobPathOf(b)}`;
  const got = await streamGet(url, { hash: true, timeoutMs: 60_000 });
  if (got.status !== 200 || got.digest !== b.blob.digest) {
    throw new Error(
      `${where}: GET ${url} answered ${got.status} with ${got.bytes} bytes hashing to ${got.digest}, expected 200 and ${b.blob.digest}`,
    );
  }
}

export const coldStart: Scenario = {
  name: 'cold-start',
  measures: `the first ${COLD_START_BLOBS} sequential GETs of a 10 MiB layer by a freshly started trustgate (after the manifest GET that allows it), against the same GETs on the long-running one`,
  tools: [],
  async check(env) {
    image = await tenMibImage(env);
    await expectBlob('cold-start via trustgate', env.proxyUrl, image);
    // One trial start, so a process that cannot start or serve fails the pre-check, not round 1.
    const { proxy } = await startFresh(env);
    try {
      await expectBlob('cold-start via a fresh trustgate', proxy.url, image);
    } finally {
      await proxy.stop();
    }
  },
  async run(env): Promise<StartRound> {
    const b = image;
    if (b === undefined) throw new Error('cold-start: check() runs first');
    const { proxy, readyMs } = await startFresh(env);
    const first = series(proxy.url, b);
    const steady = series(env.proxyUrl, b);
    try {
      const manifestMs = await timedManifest(proxy.url, b);
      for (let i = 0; i < COLD_START_BLOBS; i++) {
        await first.next();
        await steady.next();
      }
      return { kind: 'start', readyMs, manifestMs, first: first.done(), steady: steady.done() };
    } finally {
      first.done();
      steady.done();
      await proxy.stop();
    }
  },
};
