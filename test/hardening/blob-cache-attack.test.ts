// Attacks on the verified blob cache and fail static (docs/blob-cache.md), as a hostile upstream, a
// hostile client and a careless admin would make them. Two set-ups:
// - a scripted upstream (test/support/fake-upstream.ts) for what a real registry will not do:
//   wrong bytes in chosen chunks, huge bodies, many manifests;
// - the real distribution registry behind the switchable front (test/support/registry-switch.ts),
//   with Redis and the admin API, for break glass and outages.
// Written by an attacker-briefed review; every hole it found is fixed, so each test is now an
// attack that must fail (REGRESSION).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blobPath, buildImage, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { digestOf, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { startRegistrySwitch, type RegistrySwitch } from '../support/registry-switch.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** An OCI image manifest naming `layers` (and a `{}` config), padded to about `pad` bytes with an annotation. */
function imageManifest(layers: readonly Buffer[], pad = 0, salt = ''): { bytes: Buffer; digest: string; config: Buffer } {
  const config = Buffer.from('{}');
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(l), size: l.length })),
      ...(pad > 0 || salt !== '' ? { annotations: { salt, pad: 'x'.repeat(pad) } } : {}),
    }),
  );
  return { bytes, digest: digestOf(bytes), config };
}

function serveManifest(upstream: FakeUpstream, path: string, bytes: Buffer): void {
  upstream.on(path, (req, res) => {
    res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': bytes.length, 'docker-content-digest': digestOf(bytes) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  });
}

/** A blob answer with Range support, like distribution's: `body` is what is sent (it may not match the digest in the path). */
function serveBlob(upstream: FakeUpstream, path: string, body: Buffer, options: { lastChunkDelayMs?: number } = {}): void {
  upstream.on(path, (req: IncomingMessage, res: ServerResponse) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range !== null) {
      const start = Number(range[1]);
      const end = range[2] === '' ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${body.length}` });
      res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return void res.end();
    if (options.lastChunkDelayMs === undefined) return void res.end(body);
    // Everything but the last byte, then the last byte on its own: the upstream chooses the chunking.
    res.write(body.subarray(0, body.length - 1));
    setTimeout(() => res.end(body.subarray(body.length - 1)), options.lastChunkDelayMs);
  });
}

/** GET or HEAD through trustgate, whole body read; a cut stream is reported, not thrown. */
async function get(base: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer; cut: boolean }>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (cut: boolean) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut });
      res.on('end', () => done(false));
      res.on('error', () => done(true));
      res.on('aborted', () => done(true));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('blob cache attacks with a scripted upstream', () => {
  const work = mkdtempSync(join(tmpdir(), 'tg-cache-attack-'));
  const cacheDir = join(work, 'cache');
  const MAX_BYTES = 16 * 1_048_576; // the schema's minimum
  let upstream: FakeUpstream;
  let proxy: RunningProxy;

  const big = randomBytes(64 * 1024 * 1024); // far past every socket buffer, and past maxBytes
  const small = randomBytes(100 * 1024);
  const mismatch = { claimed: randomBytes(1024 * 1024), sent: randomBytes(1024 * 1024) };
  const app = imageManifest([big, small, mismatch.claimed]);

  async function open(): Promise<RunningProxy> {
    const host = new URL(upstream.url).host;
    return startProxy(
      [
        'listen: { plainHttp: true }',
        `blobCache: { enabled: true, directory: "${cacheDir}", maxBytes: ${MAX_BYTES}, failStatic: true }`,
        // Short idle timeouts: the stall below outlives them anyway.
        `upstreams:\n  - { name: fake, url: "${upstream.url}", default: true, repositories: ["${host}/**"], timeouts: { headersMs: 2000, bodyIdleMs: 2000 } }`,
      ].join('\n'),
      {
        policy: [
          'version: 1',
          'rules:',
          `  - { name: signed, images: ["${host}/deny/**"], signatures: { threshold: 1 } }`,
          `  - { name: open, images: ["${host}/open/**"], mode: off }`,
          '',
        ].join('\n'),
      },
    );
  }

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on('/v2/', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    serveManifest(upstream, '/v2/open/app/manifests/v1', app.bytes);
    serveManifest(upstream, `/v2/open/app/manifests/${app.digest}`, app.bytes);
    serveBlob(upstream, `/v2/open/app/blobs/${digestOf(app.config)}`, app.config);
    serveBlob(upstream, `/v2/open/app/blobs/${digestOf(big)}`, big);
    serveBlob(upstream, `/v2/open/app/blobs/${digestOf(small)}`, small);
    serveBlob(upstream, `/v2/open/app/blobs/${digestOf(mismatch.claimed)}`, mismatch.sent, { lastChunkDelayMs: 300 });
    proxy = await open();
    assert.equal((await get(proxy.url, '/v2/open/app/manifests/v1', { accept: OCI_MANIFEST })).status, 200);
  });

  after(async () => {
    await proxy?.close();
    await upstream?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const blobGets = (digest: string): number => upstream.requests.filter((r) => r === `GET /v2/open/app/blobs/${digest}`).length;
  const committed = (digest: string): boolean => existsSync(join(cacheDir, 'sha256', digest.slice('sha256:'.length)));

  it('REGRESSION (single flight): a client that reads slowly does not hold other pulls of the layer past the wait cap', async () => {
    const digest = digestOf(big);
    // The attacker: a whole GET that misses (so it fills), then never reads its socket.
    const attacker: Socket = connect(Number(new URL(proxy.url).port), '127.0.0.1');
    attacker.write(`GET /v2/open/app/blobs/${digest} HTTP/1.1\r\nHost: x\r\n\r\n`);
    attacker.pause();
    // Reads at most 1 MiB every half second (2 MiB/s): enough that the upstream socket is never idle for
    // bodyIdleMs, far slower than the upstream can send.
    let attackerBytes = 0;
    let tick = 0;
    attacker.on('data', (c: Buffer) => {
      attackerBytes += c.length;
      tick += c.length;
      if (tick >= 1_048_576) attacker.pause();
    });
    const drip = setInterval(() => {
      tick = 0;
      attacker.resume();
    }, 500);
    try {
      for (let i = 0; i < 100 && blobGets(digest) === 0; i++) await sleep(20);
      assert.equal(blobGets(digest), 1, 'the attacker started the fill');
      await sleep(300); // the socket buffers fill up; backpressure stops the upstream body

      // A legitimate node pulling the same layer.
      const started = performance.now();
      const waiter = httpRequest(`${proxy.url}/v2/open/app/blobs/${digest}`);
      const answered = new Promise<number>((resolve) => {
        waiter.on('response', (res) => {
          res.resume();
          resolve(performance.now() - started);
        });
        waiter.on('error', () => resolve(Infinity));
      });
      waiter.end();
      const first = await Promise.race([answered, sleep(8_000).then(() => Infinity)]);
      waiter.destroy();
      // Without the cache (or with a per-waiter timeout) the second client streams from the upstream at once.
      assert.ok(
        first < 8_000,
        `the second client got no response headers for 8 s (4 x bodyIdleMs): it waits on the attacker's fill, which goes ` +
          `only as fast as the attacker reads; the attacker read ${attackerBytes} bytes meanwhile`,
      );
    } finally {
      clearInterval(drip);
      attacker.destroy();
    }
  });

  it('REGRESSION (single flight): a filler that aborts mid-body does not poison a waiter; it is served the right bytes', async () => {
    const digest = digestOf(small);
    // A whole-blob answer slowed down so the abort lands mid-body.
    const slowPath = `/v2/open/app/blobs/${digest}`;
    upstream.on(slowPath, (_req, res) => {
      res.writeHead(200, { 'content-length': small.length });
      res.write(small.subarray(0, 1000));
      setTimeout(() => res.end(small.subarray(1000)), 600);
    });
    try {
      const filler = httpRequest(`${proxy.url}${slowPath}`);
      filler.on('error', () => {});
      filler.on('response', (res) => res.once('data', () => filler.destroy()));
      filler.end();
      for (let i = 0; i < 100 && blobGets(digest) === 0; i++) await sleep(10);
      const waiter = await get(proxy.url, slowPath);
      assert.equal(waiter.status, 200);
      assert.equal(waiter.cut, false);
      assert.equal(sha(waiter.body), digest);
    } finally {
      serveBlob(upstream, slowPath, small);
    }
  });

  it('REGRESSION (hold-back): wrong bytes from the upstream are cut before the last byte, and never committed', async () => {
    const digest = digestOf(mismatch.claimed);
    const cut = await get(proxy.url, `/v2/open/app/blobs/${digest}`);
    assert.equal(cut.status, 200);
    assert.ok(cut.cut || cut.body.length < mismatch.sent.length, 'the client saw the stream cut');
    assert.ok(cut.body.length < mismatch.sent.length);
    await sleep(200);
    assert.equal(committed(digest), false);
  });

  it('REGRESSION (Range on a hit): multi-range, a foreign If-Range, bytes=-0, start past the end', async () => {
    const digest = digestOf(small);
    const whole = await get(proxy.url, `/v2/open/app/blobs/${digest}`);
    assert.equal(sha(whole.body), digest);
    for (let i = 0; i < 50 && !committed(digest); i++) await sleep(20);
    assert.ok(committed(digest));
    const before = blobGets(digest);
    const multi = await get(proxy.url, `/v2/open/app/blobs/${digest}`, { range: 'bytes=0-0,10-20' });
    assert.equal(multi.status, 200);
    assert.ok(multi.body.equals(small));
    const foreign = await get(proxy.url, `/v2/open/app/blobs/${digest}`, { range: 'bytes=0-9', 'if-range': '"sha256:0"' });
    assert.equal(foreign.status, 200);
    assert.ok(foreign.body.equals(small));
    const matching = await get(proxy.url, `/v2/open/app/blobs/${digest}`, { range: 'bytes=0-9', 'if-range': `"${digest}"` });
    assert.equal(matching.status, 206);
    assert.ok(matching.body.equals(small.subarray(0, 10)));
    const zeroSuffix = await get(proxy.url, `/v2/open/app/blobs/${digest}`, { range: 'bytes=-0' });
    assert.equal(zeroSuffix.status, 416);
    const past = await get(proxy.url, `/v2/open/app/blobs/${digest}`, { range: `bytes=${small.length}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], `bytes */${small.length}`);
    const huge = await get(proxy.url, `/v2/open/app/blobs/${digest}`, { range: 'bytes=5-99999999999999999999999' });
    assert.equal(huge.status, 206);
    assert.ok(huge.body.equals(small.subarray(5)));
    assert.equal(blobGets(digest), before, 'every answer came from the cache');
  });

  it('REGRESSION (gate first): a digest the blob gate does not allow is refused even when it is cached (another repository, a manifest digest)', async () => {
    const digest = digestOf(small);
    assert.ok(committed(digest));
    const otherRepo = await get(proxy.url, `/v2/open/elsewhere/blobs/${digest}`);
    assert.equal(otherRepo.status, 403);
    // Manifests are kept in the same store (fail static): one is not a blob.
    for (let i = 0; i < 50 && !committed(app.digest); i++) await sleep(20);
    const manifestAsBlob = await get(proxy.url, `/v2/open/app/blobs/${app.digest}`);
    assert.equal(manifestAsBlob.status, 403);
  });

  it('REGRESSION (DoS): denied manifests never enter the cache, so they cannot evict verified layers', async () => {
    const digest = digestOf(small);
    assert.ok(committed(digest), 'the layer of an allowed image is cached');
    const denied: string[] = [];
    for (let i = 0; i < 18; i++) {
      const junk = imageManifest([], 1_048_576 - 512, `junk-${i}`);
      serveManifest(upstream, `/v2/deny/junk/manifests/${junk.digest}`, junk.bytes);
      const res = await get(proxy.url, `/v2/deny/junk/manifests/${junk.digest}`, { accept: OCI_MANIFEST });
      assert.equal(res.status, 403, 'the policy denies every one of them');
      denied.push(junk.digest);
    }
    await sleep(300);
    assert.deepEqual(
      { deniedManifestsOnDisk: denied.filter(committed).length, layerStillCached: committed(digest) },
      { deniedManifestsOnDisk: 0, layerStillCached: true },
      'manifests the gate refused were written to the cache (fsync, rename, links each) and evicted the verified layer',
    );
  });

  it('REGRESSION: a HEAD hit hashes the entry first: a corrupt entry never answers 200 with its wrong size after a restart', async () => {
    const digest = digestOf(small);
    if (!committed(digest)) {
      await get(proxy.url, `/v2/open/app/blobs/${digest}`);
      for (let i = 0; i < 50 && !committed(digest); i++) await sleep(20);
    }
    await proxy.close();
    // Bit rot, or a copy cut short: the doc promises "a partial or corrupt file is never served".
    const file = join(cacheDir, 'sha256', digest.slice('sha256:'.length));
    writeFileSync(file, readFileSync(file).subarray(0, 1234));
    proxy = await open();
    assert.equal((await get(proxy.url, '/v2/open/app/manifests/v1', { accept: OCI_MANIFEST })).status, 200);
    const head = await get(proxy.url, `/v2/open/app/blobs/${digest}`, {}, 'HEAD');
    assert.ok(
      !(head.status === 200 && head.headers['content-length'] === '1234'),
      `HEAD answered ${head.status} with Content-Length ${head.headers['content-length']} (the blob has ${small.length} bytes)`,
    );
    const whole = await get(proxy.url, `/v2/open/app/blobs/${digest}`);
    assert.equal(sha(whole.body), digest, 'a GET hashes first and refetches');
  });
});

describe('break glass and fail static, real registry', () => {
  const prefix = testPrefix('cache-attack');
  const work = mkdtempSync(join(tmpdir(), 'tg-cache-attack-bg-'));
  const cacheDir = join(work, 'cache');
  const HOUR = 3_600_000;
  let registry: RunningRegistry;
  let front: RegistrySwitch;
  let tokens: AdminTokens;
  let proxy: RunningProxy;
  let unsigned: BuiltImage;

  const start = () =>
    startProxy(
      [
        'listen: { plainHttp: true }',
        `redis: { url: "${REDIS_URL}" }`,
        `blobCache: { enabled: true, directory: "${cacheDir}", failStatic: true }`,
        `${tokens.configYaml}upstreams:\n  - { name: local, url: "${front.url}", default: true, repositories: ["${front.host}/**"] }`,
      ].join('\n'),
      {
        redisPrefix: prefix,
        policy: `version: 1\nrules:\n  - { name: prod, images: ["${front.host}/prod/**"], signatures: { threshold: 1 } }\n`,
      },
    );

  before(async () => {
    registry = await startRegistry();
    front = await startRegistrySwitch(registry.url);
    tokens = await adminTokens(work);
    unsigned = await buildImage(join(work, 'unsigned'), { seed: 'cache-attack-unsigned', layers: 2, layerBytes: 256 * 1024 });
    assert.equal((await push(unsigned.layoutDir, `docker://${registry.host}/prod/unsigned:v1`)).code, 0);
    proxy = await start();
  });

  after(async () => {
    await proxy?.close();
    await front?.close();
    await registry?.stop();
    await deleteRedisKeys(prefix);
    rmSync(work, { recursive: true, force: true });
  });

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${await tokens.mint('kim', ['key-manager'])}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('REGRESSION: during an outage (learned from a blob failure), break glass is served neither from memory nor from the cache', async () => {
    const opened = await admin('POST', '/breakglass', {
      image: `${front.host}/prod/unsigned@${unsigned.manifestDigest}`,
      reason: 'INC-1',
      expires: new Date(Date.now() + HOUR).toISOString(),
    });
    assert.equal(opened.status, 201, JSON.stringify(opened.json));
    const manifest = await get(proxy.url, `/v2/prod/unsigned/manifests/${unsigned.manifestDigest}`, { accept: OCI_MANIFEST });
    assert.equal(manifest.status, 200, 'allowed by break glass, upstream up');
    const [cachedLayer, otherLayer] = unsigned.layerDigests as [string, string];
    const warm = await get(proxy.url, `/v2/prod/unsigned/blobs/${cachedLayer}`);
    assert.equal(warm.status, 200);
    assert.ok(warm.body.equals(readFileSync(blobPath(unsigned.layoutDir, cachedLayer))));
    for (let i = 0; i < 50 && !existsSync(join(cacheDir, 'sha256', cachedLayer.slice(7))); i++) await sleep(20);

    await front.stop();
    // The outage is visible to trustgate: a blob it must fetch fails as unreachable.
    const miss = await get(proxy.url, `/v2/prod/unsigned/blobs/${otherLayer}`);
    assert.equal(miss.status, 502, 'the upstream is unreachable');
    assert.equal(proxy.runtime.deps.upstreams.down('local'), true, 'the blob failure marked the upstream down');

    // docs/blob-cache.md "Fail static": "Never break glass ... during an outage it does not apply, to manifests or to blobs."
    const again = await get(proxy.url, `/v2/prod/unsigned/manifests/${unsigned.manifestDigest}`, { accept: OCI_MANIFEST });
    const layer = await get(proxy.url, `/v2/prod/unsigned/blobs/${cachedLayer}`);
    assert.deepEqual(
      { manifest: again.status === 200, layer: layer.status === 200 },
      { manifest: false, layer: false },
      'an image allowed only by break glass is not served (from memory or the cache) while the upstream is down',
    );
  });

  it('REGRESSION: after a restart during the outage, a break-glass layer is not served from disk (break glass always asks the upstream)', async () => {
    await proxy.close();
    proxy = await start();
    const [cachedLayer] = unsigned.layerDigests as [string];
    const layer = await get(proxy.url, `/v2/prod/unsigned/blobs/${cachedLayer}`);
    assert.notEqual(layer.status, 200, 'a break-glass grant (from Redis) served a cached layer with the upstream stopped');
    await front.start();
  });
});
