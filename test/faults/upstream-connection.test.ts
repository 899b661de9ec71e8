import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { startFaultyFront, type FaultyFront } from './support/faulty-front.ts';
import { enforcingPolicy, pushImage, sign, signingKey, trustedKey } from './support/images.ts';
import { assertClosed, assertDenied, assertServed, pullBlob, pullManifest, sha256 } from './support/pull.ts';

// Fault matrix, row 1: the upstream refuses connections, times out, or resets mid-manifest or
// mid-blob. trustgate answers an OCI error (or cuts the blob stream) within its timeouts, never
// serves the unsigned image, and serves the signed one again once the upstream is healthy.

const CONNECT_MS = 1_000;
const HEADERS_MS = 400;
const BODY_IDLE_MS = 400;
/** Scheduling slack on a shared 2-CPU machine. */
const SLACK_MS = 1_500;
/** A timeout is retried once (src/upstream/retry.ts), with a 50 ms backoff. */
const TIMEOUT_BOUND = 2 * HEADERS_MS + 50 + SLACK_MS;
/** Refused and reset connections are retried `retries` (2) times, backoff 50 then 100 ms. */
const RETRIED_BOUND = 150 + SLACK_MS;

const work = mkdtempSync(join(tmpdir(), 'tg-faults-conn-'));
const key = signingKey();
let registry: RunningRegistry;
let front: FaultyFront;
let proxy: RunningProxy;
let signed: BuiltImage;
const LAYER_BYTES = 512 * 1024;

/** An unsigned image no test has pulled yet, so its signatures are looked up afresh. */
let fresh = 0;
async function freshUnsigned(): Promise<{ repository: string; image: BuiltImage }> {
  const repository = `faults/unsigned-${++fresh}`;
  return { repository, image: await pushImage(registry.url, work, repository, 'v1', `unsigned-${fresh}`) };
}

before(async () => {
  registry = await startRegistry();
  front = await startFaultyFront(registry.url);
  signed = await pushImage(registry.url, work, 'faults/app', 'v1', 'signed', LAYER_BYTES);
  await sign(registry.url, 'faults/app', signed, key);
  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - name: up
    url: ${front.url}
    default: true
    repositories: ["${front.host}/**"]
    retries: 2
    timeouts: { connectMs: ${CONNECT_MS}, headersMs: ${HEADERS_MS}, bodyIdleMs: ${BODY_IDLE_MS} }
`,
    { policy: enforcingPolicy(front.host), keys: [trustedKey('ci', key, front.host)] },
  );
  // Healthy first: the signed image is allowed (its verdict and blobs now known), unsigned denied.
  assertServed(await pullManifest(proxy.url, 'faults/app', 'v1'), signed.manifestDigest);
  assertDenied(await pullManifest(proxy.url, (await freshUnsigned()).repository, 'v1'));
});

beforeEach(() => front.heal()); // a test that failed half-way leaves no fault behind

after(async () => {
  await proxy?.close();
  await front?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The follow-up that proves the process is still up and healthy: signed served, a new unsigned denied. */
async function stillHealthy(): Promise<void> {
  front.heal();
  assertServed(await pullManifest(proxy.url, 'faults/app', 'v1'), signed.manifestDigest);
  const blob = await pullBlob(proxy.url, 'faults/app', signed.layerDigests[0]!);
  assert.ok(blob.complete && blob.status === 200, `blob after the fault: ${blob.status}`);
  assert.equal(sha256(blob.body), signed.layerDigests[0]);
  assertDenied(await pullManifest(proxy.url, (await freshUnsigned()).repository, 'v1'));
}

describe('fault matrix: upstream connection faults', () => {
  it('upstream refusing connections › 502 UNAVAILABLE at once for manifests, blobs and unknown images; served again when it is back', async () => {
    const unsigned = await freshUnsigned();
    await front.down();
    try {
      assertClosed(await pullManifest(proxy.url, 'faults/app', 'v1'), 502, 'UNAVAILABLE', RETRIED_BOUND);
      assertClosed(await pullManifest(proxy.url, 'faults/app', 'v1', 'HEAD'), 502, undefined, RETRIED_BOUND);
      const denied = await pullManifest(proxy.url, unsigned.repository, 'v1');
      assertClosed(denied, 502, 'UNAVAILABLE', RETRIED_BOUND);
      assert.match(denied.ociMessage ?? '', /upstream "up" is unreachable \(ECONNREFUSED\)/);
      assertClosed(await pullManifest(proxy.url, unsigned.repository, unsigned.image.manifestDigest), 502, 'UNAVAILABLE', RETRIED_BOUND);
      const blob = await pullBlob(proxy.url, 'faults/app', signed.layerDigests[0]!);
      assertClosed(blob, 502, 'UNAVAILABLE', RETRIED_BOUND);
      // Content addressed and already verified: the signed image by digest is still served from memory.
      assertServed(await pullManifest(proxy.url, 'faults/app', signed.manifestDigest), signed.manifestDigest);
    } finally {
      await front.up();
    }
    assertDenied(await pullManifest(proxy.url, unsigned.repository, 'v1'));
    await stillHealthy();
  });

  it('upstream accepting and never answering a manifest › 504 within the headers timeout (retried once)', async () => {
    const unsigned = await freshUnsigned();
    front.inject(/^(GET|HEAD) \/v2\/faults\/(app|unsigned-\d+)\/manifests\/v1$/, { kind: 'stall' });
    const [a, b] = await Promise.all([pullManifest(proxy.url, 'faults/app', 'v1'), pullManifest(proxy.url, unsigned.repository, 'v1')]);
    assertClosed(a, 504, 'UNAVAILABLE', TIMEOUT_BOUND);
    assertClosed(b, 504, 'UNAVAILABLE', TIMEOUT_BOUND);
    assert.match(b.ociMessage ?? '', new RegExp(`upstream "up" did not answer within ${HEADERS_MS} ms`));
    assert.ok(b.ms >= HEADERS_MS, 'it waited for the timeout');
    await stillHealthy();
  });

  it('upstream never answering the signature lookup of an unsigned image › 504, not an allow, and nothing cached', async () => {
    const unsigned = await freshUnsigned();
    front.inject(/^GET \/v2\/faults\/unsigned-\d+\/manifests\/sha256-[0-9a-f]{64}\.sig$/, { kind: 'stall' });
    const answer = await pullManifest(proxy.url, unsigned.repository, 'v1');
    assertClosed(answer, 504, 'UNAVAILABLE', TIMEOUT_BOUND);
    front.heal();
    assertDenied(await pullManifest(proxy.url, unsigned.repository, 'v1'));
    await stillHealthy();
  });

  it('upstream going silent halfway through a manifest body › 504 within the body idle timeout', async () => {
    const unsigned = await freshUnsigned();
    front.inject(/^GET \/v2\/faults\/unsigned-\d+\/manifests\/v1$/, { kind: 'stall-after', bytes: 100 });
    const answer = await pullManifest(proxy.url, unsigned.repository, 'v1');
    assertClosed(answer, 504, 'UNAVAILABLE', 2 * BODY_IDLE_MS + 50 + SLACK_MS);
    assert.match(answer.ociMessage ?? '', /upstream "up" (sent no data for \d+ ms|did not send its whole answer)/);
    await stillHealthy();
  });

  it('upstream resetting the connection mid-manifest › 502 UNAVAILABLE after the bounded retries, for the image and its signature lookup', async () => {
    const unsigned = await freshUnsigned();
    front.inject(/^GET \/v2\/faults\/unsigned-\d+\/manifests\/v1$/, { kind: 'reset-after', bytes: 100 });
    const before = front.requests.length;
    const answer = await pullManifest(proxy.url, unsigned.repository, 'v1');
    assertClosed(answer, 502, 'UNAVAILABLE', RETRIED_BOUND);
    assert.match(answer.ociMessage ?? '', /upstream "up" is unreachable/);
    assert.equal(
      front.requests.slice(before).filter((r) => r.endsWith(`${unsigned.repository}/manifests/v1`)).length,
      3,
      'retries: 2 means three attempts',
    );

    front.heal();
    const other = await freshUnsigned();
    front.inject(/^GET \/v2\/faults\/unsigned-\d+\/manifests\/sha256-[0-9a-f]{64}\.sig$/, { kind: 'reset-after', bytes: 10 });
    assertClosed(await pullManifest(proxy.url, other.repository, 'v1'), 502, 'UNAVAILABLE', RETRIED_BOUND);
    await stillHealthy();
  });

  it('upstream resetting the connection mid-blob › the client connection is cut, never a clean short 200', async () => {
    const layer = signed.layerDigests[0]!;
    front.inject(new RegExp(`^GET /v2/faults/app/blobs/${layer}$`), { kind: 'reset-after', bytes: LAYER_BYTES / 4 });
    const answer = await pullBlob(proxy.url, 'faults/app', layer);
    assert.equal(answer.complete, false, 'the response must not end cleanly');
    assert.ok(answer.body.length < LAYER_BYTES, `got ${answer.body.length} bytes of ${LAYER_BYTES}`);
    assert.notEqual(sha256(answer.body), layer);
    assert.ok(answer.ms < RETRIED_BOUND, `cut after ${Math.round(answer.ms)} ms`);
    await stillHealthy();
  });

  it('upstream going silent mid-blob › the client connection is cut within the idle timeout', async () => {
    const layer = signed.layerDigests[0]!;
    front.inject(new RegExp(`^GET /v2/faults/app/blobs/${layer}$`), { kind: 'stall-after', bytes: LAYER_BYTES / 4 });
    const answer = await pullBlob(proxy.url, 'faults/app', layer);
    assert.equal(answer.complete, false, 'the response must not end cleanly');
    assert.ok(answer.body.length < LAYER_BYTES);
    assert.ok(answer.ms < BODY_IDLE_MS + SLACK_MS, `cut after ${Math.round(answer.ms)} ms`);
    await stillHealthy();
  });
});
