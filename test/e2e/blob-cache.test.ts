// The verified pull-through blob cache (docs/blob-cache.md) end to end: a real distribution registry
// behind a switchable front (test/support/registry-switch.ts) that logs what reaches the upstream and
// can tamper with a blob or hide it from a repository; trustgate wired as main.ts wires it, with a
// policy that requires a cosign signature. Every cached byte is checked against its digest, and the
// same checks run with the cache as without it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ec, spki } from '../admin/key-material.ts';
import { blobPath, buildImage, cosignSignImage, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { startRegistrySwitch, type RegistrySwitch } from '../support/registry-switch.ts';
import { BLOB_CACHE_METRICS } from '../support/blob-cache-metric-names.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-blob-cache-'));
const cacheDir = join(work, 'cache');
const signer = ec('P-256');
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

let registry: RunningRegistry;
let front: RegistrySwitch;
let proxy: RunningProxy;
/** Signed, in prod/app and (the same image) in prod/other. */
let app: BuiltImage;
/** Signed, for the tamper and concurrency cases. */
let tampered: BuiltImage;
let herd: BuiltImage;

const policy = (host: string, extra = ''): string =>
  `version: 1\nrules:\n  - { name: prod, images: ["${host}/prod/**"], signatures: { threshold: 1 } }\n${extra}`;

async function pushSigned(image: BuiltImage, repository: string): Promise<void> {
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repository}:v1`)).code, 0);
  await cosignSignImage(registry.url, repository, image.manifestDigest, `${front.host}/${repository}`, signer.privateKey);
}

const layerOf = (image: BuiltImage): string => image.layerDigests[0]!;
const layerBytes = (image: BuiltImage): Buffer => readFileSync(blobPath(image.layoutDir, layerOf(image)));
const sha = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function manifest(repository: string): Promise<number> {
  const res = await fetch(`${proxy.url}/v2/${repository}/manifests/v1`, { headers: { accept: ACCEPT } });
  await res.arrayBuffer();
  return res.status;
}

async function blob(repository: string, digest: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${proxy.url}/v2/${repository}/blobs/${digest}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

const upstreamBlobRequests = (digest: string, method = 'GET'): number =>
  front.log.filter((r) => r.method === method && r.path.endsWith(`/blobs/${digest}`)).length;

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await proxy.runtime.deps.metrics.registry.getSingleMetric(name)?.get();
  const values = metric?.values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)) ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

const committed = (digest: string): boolean => existsSync(join(cacheDir, 'sha256', digest.slice('sha256:'.length)));

before(async () => {
  registry = await startRegistry();
  front = await startRegistrySwitch(registry.url);
  app = await buildImage(join(work, 'app'), { seed: 'blob-cache-app', layerBytes: 3 * 1_048_576 });
  tampered = await buildImage(join(work, 'tampered'), { seed: 'blob-cache-tampered', layerBytes: 1_048_576 });
  herd = await buildImage(join(work, 'herd'), { seed: 'blob-cache-herd', layerBytes: 2 * 1_048_576 });
  await pushSigned(app, 'prod/app');
  await pushSigned(app, 'prod/other');
  await pushSigned(tampered, 'prod/tampered');
  await pushSigned(herd, 'prod/herd');
  proxy = await startProxy(
    [
      'listen: { plainHttp: true }',
      `blobCache: { enabled: true, directory: "${cacheDir}", maxBytes: 67108864 }`,
      `upstreams:\n  - { name: local, url: "${front.url}", default: true, repositories: ["${front.host}/**"] }`,
    ].join('\n'),
    { policy: policy(front.host), keys: [{ id: 'release', pem: spki(signer.publicKey), scopes: [`${front.host}/**`] }] },
  );
});

after(async () => {
  await proxy?.close();
  await front?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the verified blob cache', () => {
  it('fills while streaming: the entry is byte-identical, and the next GET never reaches the upstream', async () => {
    assert.equal(await manifest('prod/app'), 200);
    const digest = layerOf(app);
    const first = await blob('prod/app', digest);
    assert.equal(first.status, 200);
    assert.equal(sha(first.body), digest);
    assert.ok(first.body.equals(layerBytes(app)));
    assert.equal(upstreamBlobRequests(digest), 1);
    await waitFor(() => committed(digest));
    assert.ok(readFileSync(join(cacheDir, 'sha256', digest.slice(7))).equals(layerBytes(app)), 'the file on disk is the blob');

    const second = await blob('prod/app', digest);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('docker-content-digest'), digest);
    assert.equal(Number(second.headers.get('content-length')), layerBytes(app).length);
    assert.ok(second.body.equals(layerBytes(app)));
    assert.equal(upstreamBlobRequests(digest), 1, 'served from the cache');
    assert.equal(await counter('trustgate_blob_cache_requests_total', { result: 'hit' }), 1);
    // Counted once the response finished on trustgate's side, which may be just after the client read the last byte.
    await waitForAsync(async () => (await counter('trustgate_blob_cache_served_bytes_total')) === layerBytes(app).length);
  });

  it('Range: served from the cache with Content-Range; an unsatisfiable one is 416', async () => {
    const digest = layerOf(app);
    const size = layerBytes(app).length;
    const part = await blob('prod/app', digest, { range: 'bytes=100-1123' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-1123/${size}`);
    assert.ok(part.body.equals(layerBytes(app).subarray(100, 1124)));
    const tail = await blob('prod/app', digest, { range: 'bytes=-10' });
    assert.equal(tail.status, 206);
    assert.ok(tail.body.equals(layerBytes(app).subarray(size - 10)));
    const beyond = await blob('prod/app', digest, { range: `bytes=${size}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);
    assert.equal(upstreamBlobRequests(digest), 1, 'every range came from the cache');
  });

  it('a Range request that misses is proxied and commits nothing', async () => {
    assert.equal(await manifest('prod/herd'), 200);
    const digest = layerOf(herd);
    const part = await blob('prod/herd', digest, { range: 'bytes=0-99' });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(layerBytes(herd).subarray(0, 100)));
    assert.equal(upstreamBlobRequests(digest), 1);
    await settle();
    assert.equal(committed(digest), false, 'a partial answer never becomes an entry');
  });

  it('concurrent misses of one digest share one upstream fetch', async () => {
    const digest = layerOf(herd);
    const before = upstreamBlobRequests(digest);
    const answers = await Promise.all(Array.from({ length: 6 }, () => blob('prod/herd', digest)));
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(sha(answer.body), digest);
    }
    assert.equal(upstreamBlobRequests(digest) - before, 1, 'one upstream GET for six clients');
    assert.equal(committed(digest), true);
  });

  it('a tampered upstream byte never enters the cache: the stream is cut, counted, and nothing is committed', async () => {
    assert.equal(await manifest('prod/tampered'), 200);
    const digest = layerOf(tampered);
    front.tamper.add(digest);
    try {
      const failures = await counter('trustgate_blob_cache_verification_failures_total', { where: 'fill' });
      const cut = await fetch(`${proxy.url}/v2/prod/tampered/blobs/${digest}`)
        .then(async (res) => ({ status: res.status, body: Buffer.from(await res.arrayBuffer()) }))
        .catch((error: unknown) => ({ error }));
      if ('body' in cut) {
        assert.notEqual(cut.body.length, layerBytes(tampered).length, 'the client never got the whole (bad) body');
      } else {
        assert.ok(cut.error instanceof Error, 'the client saw the stream cut');
      }
      await settle();
      assert.equal(committed(digest), false);
      assert.equal(await counter('trustgate_blob_cache_verification_failures_total', { where: 'fill' }), failures + 1);
    } finally {
      front.tamper.delete(digest);
    }
    const good = await blob('prod/tampered', digest);
    assert.equal(good.status, 200);
    assert.equal(sha(good.body), digest);
    await waitFor(() => committed(digest));
  });

  it('a blob cached for one repository is not served to another that does not have it upstream', async () => {
    const digest = layerOf(app);
    assert.equal(committed(digest), true);
    assert.equal(await manifest('prod/other'), 200, 'prod/other is allowed, and its manifest names the layer');
    front.hideBlobsIn.add('prod/other');
    try {
      const refused = await blob('prod/other', digest);
      assert.equal(refused.status, 404);
      assert.equal(JSON.parse(refused.body.toString()).errors[0].code, 'BLOB_UNKNOWN');
      assert.equal(upstreamBlobRequests(digest, 'HEAD'), 1, 'the upstream was asked under prod/other');
    } finally {
      front.hideBlobsIn.delete('prod/other');
    }
    const gets = upstreamBlobRequests(digest);
    const served = await blob('prod/other', digest);
    assert.equal(served.status, 200);
    assert.ok(served.body.equals(layerBytes(app)));
    assert.equal(upstreamBlobRequests(digest), gets, 'confirmed with a HEAD, then served from the cache');
    assert.equal(upstreamBlobRequests(digest, 'HEAD'), 2);
    const again = await blob('prod/other', digest);
    assert.equal(again.status, 200);
    assert.equal(upstreamBlobRequests(digest, 'HEAD'), 2, 'the confirmation is remembered');
  });

  it('a blob of an image the policy now denies is refused from the cache too', async () => {
    const digest = layerOf(app);
    assert.equal(committed(digest), true);
    // Two signatures required now: prod/app has one, so it is denied, and its layers with it.
    proxy.files.writePolicy(policy(front.host).replace('threshold: 1', 'threshold: 2'));
    assert.equal(proxy.runtime.policy.reload(), true);
    try {
      const gets = upstreamBlobRequests(digest);
      const refused = await blob('prod/app', digest);
      assert.equal(refused.status, 403);
      const error = JSON.parse(refused.body.toString()).errors[0];
      assert.equal(error.code, 'DENIED');
      assert.match(error.message, /blob_not_referenced|not named by an allowed manifest|blob/);
      assert.equal(await manifest('prod/app'), 403);
      assert.equal((await blob('prod/app', digest)).status, 403, 'still refused after the denied manifest pull');
      assert.equal(upstreamBlobRequests(digest), gets, 'nothing went upstream either');
    } finally {
      proxy.files.writePolicy(policy(front.host));
      assert.equal(proxy.runtime.policy.reload(), true);
    }
  });

  it('every cache metric alerts may use is exported, and no label carries a name or digest', async () => {
    const text = await proxy.runtime.deps.metrics.registry.metrics();
    for (const name of BLOB_CACHE_METRICS) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    for (const line of text.split('\n').filter((l) => l.startsWith('trustgate_blob_cache') && l.includes('{'))) {
      assert.ok(!/prod\/|sha256|127\.0\.0\.1/.test(line.slice(line.indexOf('{'))), line);
    }
    assert.ok((await counter('trustgate_blob_cache_size_bytes')) >= layerBytes(app).length);
  });

  it('the cache directory holds committed entries and no temporary leftovers', async () => {
    await settle();
    const tmp = join(cacheDir, 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
  });
});

/** Lets a commit that follows the client's last byte (fsync, rename) finish. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), 'condition not met within 2 s');
}

async function waitForAsync(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(await check(), 'condition not met within 2 s');
}
