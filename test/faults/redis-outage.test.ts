import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { runtimeFiles, type RuntimeFiles } from '../support/runtime-files.ts';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.ts';
import { spawnProxy, type ChildProxy } from '../support/child-proxy.ts';
import { metricValue } from './support/child.ts';
import { enforcingPolicy, pushImage, sign, signingKey, trustedKey } from './support/images.ts';
import { assertDenied, assertServed, pullBlob, pullManifest, sha256, type Answer } from './support/pull.ts';

// Fault matrix, row 3: Redis absent at start, killed under load, and restarted (each test starts
// its own redis-server on a free port; the machine's shared one is never touched). Verdicts this
// replica already holds keep being served from memory; a digest it never judged is refused (503,
// never 200: the trust snapshot may miss revocations made on other replicas); when Redis comes
// back, empty, everything recovers without restarting trustgate.

const SLACK_MS = 1_500;
/** Redis commands fail fast once the connection is gone (no offline queue). */
const REDIS_DOWN_BOUND = SLACK_MS;
/** How long one connect attempt at start may take; once, the first one running out made trustgate exit 1. */
const CONNECT_ATTEMPT_MS = 5_000;

const work = mkdtempSync(join(tmpdir(), 'tg-faults-redis-'));
const key = signingKey();
let registry: RunningRegistry;
let known: BuiltImage;
const images: Record<string, BuiltImage> = {};
// Started in before() without its Redis, so its wait overlaps the other test.
let late: { redis: OwnRedis; files: RuntimeFiles; tg: ChildProxy } | undefined;

/** startProxy picks the port itself; the child process needs `address` to listen on a free one. */
const upstreamYaml = (redisUrl: string, listen = '{ plainHttp: true }'): string => `listen: ${listen}
redis: { url: "${redisUrl}" }
upstreams:
  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }
`;

before(async () => {
  // Spawned first, so its wait for Redis overlaps the setup and the other test.
  const redis = await startOwnRedis();
  await redis.kill(); // its port is known, nothing listens on it
  registry = await startRegistry();
  const files = runtimeFiles(enforcingPolicy(registry.host), [trustedKey('ci', key, registry.host)]);
  const tg = spawnProxy(upstreamYaml(`redis://127.0.0.1:${redis.port}`, '{ address: "127.0.0.1:0", plainHttp: true }'), {}, files);
  late = { redis, files, tg };

  known = await pushImage(registry.url, work, 'faults/known', 'v1', 'known', 64 * 1024);
  await sign(registry.url, 'faults/known', known, key);
  for (const name of ['new-signed', 'late-signed']) {
    images[name] = await pushImage(registry.url, work, `faults/${name}`, 'v1', name);
    await sign(registry.url, `faults/${name}`, images[name]!, key);
  }
  for (const name of ['new-unsigned', 'late-unsigned']) images[name] = await pushImage(registry.url, work, `faults/${name}`, 'v1', name);
});

after(async () => {
  await late?.tg.kill();
  late?.files.remove();
  await late?.redis.stop();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function scrape(url: string, series: string): Promise<number | undefined> {
  return metricValue(await (await fetch(`${url}/metrics`)).text(), series);
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    assert.ok(performance.now() < deadline, `not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Refused because Redis is down: 503 UNAVAILABLE, quickly, never a 200. */
function assertRefusedWithoutRedis(answer: Answer): void {
  assert.notEqual(answer.status, 200, 'a digest never judged must not be allowed while Redis is down');
  assert.equal(answer.status, 503, `${answer.status} ${answer.ociMessage ?? ''}`);
  assert.equal(answer.ociCode, 'UNAVAILABLE');
  assert.match(answer.ociMessage ?? '', /shared state \(Redis\) is unreachable/);
  assert.ok(answer.ms < REDIS_DOWN_BOUND, `answered after ${Math.round(answer.ms)} ms`);
}

describe('fault matrix: Redis outages', () => {
  it('Redis killed under load, then restarted empty › known verdicts keep 200 from memory, never-judged digests 503, all recovers by itself', async () => {
    const redis = await startOwnRedis();
    const proxy: RunningProxy = await startProxy(upstreamYaml(`redis://127.0.0.1:${redis.port}`), {
      policy: enforcingPolicy(registry.host),
      keys: [trustedKey('ci', key, registry.host)],
    });
    try {
      const layer = known.layerDigests[0]!;
      assertServed(await pullManifest(proxy.url, 'faults/known', 'v1'), known.manifestDigest);
      assert.equal(await scrape(proxy.url, 'trustgate_redis_up'), 1);

      // Load: known image by tag and by digest, and its blob, from 6 clients until told to stop.
      let loading = true;
      const results: { what: string; status: number; complete: boolean; ok: boolean }[] = [];
      const client = async (): Promise<void> => {
        while (loading) {
          const tag = await pullManifest(proxy.url, 'faults/known', 'v1');
          const digest = await pullManifest(proxy.url, 'faults/known', known.manifestDigest);
          const blob = await pullBlob(proxy.url, 'faults/known', layer);
          results.push({
            what: 'tag',
            status: tag.status,
            complete: tag.complete,
            ok: tag.headers['docker-content-digest'] === known.manifestDigest,
          });
          results.push({
            what: 'digest',
            status: digest.status,
            complete: digest.complete,
            ok: sha256(digest.body) === known.manifestDigest,
          });
          results.push({ what: 'blob', status: blob.status, complete: blob.complete, ok: sha256(blob.body) === layer });
        }
      };
      const load = Promise.all(Array.from({ length: 6 }, client));
      await new Promise((r) => setTimeout(r, 300));
      const before = results.length;
      await redis.kill(); // SIGKILL mid-load
      await until('trustgate sees Redis down', async () => (await scrape(proxy.url, 'trustgate_redis_up')) === 0);

      assertRefusedWithoutRedis(await pullManifest(proxy.url, 'faults/new-signed', 'v1'));
      assertRefusedWithoutRedis(await pullManifest(proxy.url, 'faults/new-unsigned', 'v1'));
      assertRefusedWithoutRedis(await pullManifest(proxy.url, 'faults/new-signed', images['new-signed']!.manifestDigest));
      await new Promise((r) => setTimeout(r, 300)); // more load while Redis is down
      loading = false;
      await load;
      assert.ok(results.length - before >= 18, `pulls while Redis died and stayed down: ${results.length - before}`);
      const bad = results.filter((r) => r.status !== 200 || !r.complete || !r.ok);
      assert.deepEqual(bad, [], 'every pull of the known image was served, whole, from memory');

      await redis.start(); // same port, empty
      await until('trustgate sees Redis up again', async () => (await scrape(proxy.url, 'trustgate_redis_up')) === 1);
      await until(
        'a new signed image is allowed again',
        async () => (await pullManifest(proxy.url, 'faults/new-signed', 'v1')).status === 200,
      );
      assertServed(await pullManifest(proxy.url, 'faults/new-signed', 'v1'), images['new-signed']!.manifestDigest);
      assertDenied(await pullManifest(proxy.url, 'faults/new-unsigned', 'v1'));
      assertServed(await pullManifest(proxy.url, 'faults/known', 'v1'), known.manifestDigest);
      const blob = await pullBlob(proxy.url, 'faults/known', layer);
      assert.equal(blob.status, 200);
      assert.equal(sha256(blob.body), layer);
    } finally {
      await proxy.close();
      await redis.stop();
    }
  });

  it('Redis absent at start past a connect timeout › the process stays up, 503 until Redis comes, then serves by itself', async () => {
    const { redis, tg } = late!;
    const url = /"event":"listening","address":"(http:\/\/[^"]+)"/.exec((await tg.waitFor(/"event":"listening"/), tg.out()))![1]!;
    await tg.waitFor(/"event":"redis_waiting"/, CONNECT_ATTEMPT_MS + 10_000); // a connect attempt timed out
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tg.child.exitCode, null, 'still running after the connect timeout');
    const readyz = await fetch(`${url}/readyz`);
    assert.equal(readyz.status, 503);
    assert.deepEqual(await readyz.json(), { status: 'starting' });
    const refused = await pullManifest(url, 'faults/late-signed', 'v1');
    assert.equal(refused.status, 503);
    assert.equal(refused.ociCode, 'UNAVAILABLE');
    assert.equal((await pullManifest(url, 'faults/late-unsigned', 'v1')).status, 503);

    await redis.start();
    await tg.ready();
    assertServed(await pullManifest(url, 'faults/late-signed', 'v1'), images['late-signed']!.manifestDigest);
    assertDenied(await pullManifest(url, 'faults/late-unsigned', 'v1'));
    assert.equal(await scrape(url, 'trustgate_redis_up'), 1);
  });
});
