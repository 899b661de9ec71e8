import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { startFaultyFront, type FaultyFront } from './support/faulty-front.ts';
import { enforcingPolicy, pushImage, sign, signingKey, trustedKey } from './support/images.ts';
import { assertClosed, assertDenied, assertServed, pullBlob, pullManifest } from './support/pull.ts';

// Fault matrix, row 2: the upstream answers 5xx, 429 with Retry-After, or a manifest whose
// Docker-Content-Digest does not match its bytes. trustgate answers an OCI error at once, never
// serves the unsigned image or bytes other than the digest names, caches no verdict from an
// upstream failure, and serves the signed image again once the upstream is healthy.

const SLACK_MS = 1_500;
/** 502/503/504 are retried twice (backoff 50 then 100 ms); 500 and 429 are not retried. */
const BOUND = 150 + SLACK_MS;

const work = mkdtempSync(join(tmpdir(), 'tg-faults-answers-'));
const key = signingKey();
let registry: RunningRegistry;
let front: FaultyFront;
let proxy: RunningProxy;
let signed: BuiltImage;

let count = 0;
async function fresh(signature: 'signed' | 'unsigned'): Promise<{ repository: string; image: BuiltImage }> {
  const repository = `faults/${signature}-${++count}`;
  const image = await pushImage(registry.url, work, repository, 'v1', `${signature}-${count}`);
  if (signature === 'signed') await sign(registry.url, repository, image, key);
  return { repository, image };
}

before(async () => {
  registry = await startRegistry();
  front = await startFaultyFront(registry.url);
  signed = await pushImage(registry.url, work, 'faults/app', 'v1', 'signed');
  await sign(registry.url, 'faults/app', signed, key);
  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - name: up
    url: ${front.url}
    default: true
    repositories: ["${front.host}/**"]
    retries: 2
    timeouts: { connectMs: 1000, headersMs: 1000, bodyIdleMs: 1000 }
`,
    { policy: enforcingPolicy(front.host), keys: [trustedKey('ci', key, front.host)] },
  );
  assertServed(await pullManifest(proxy.url, 'faults/app', 'v1'), signed.manifestDigest);
});

beforeEach(() => front.heal()); // a test that failed half-way leaves no fault behind

after(async () => {
  await proxy?.close();
  await front?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function stillHealthy(): Promise<void> {
  front.heal();
  assertServed(await pullManifest(proxy.url, 'faults/app', 'v1'), signed.manifestDigest);
  assertDenied(await pullManifest(proxy.url, (await fresh('unsigned')).repository, 'v1'));
}

describe('fault matrix: upstream error answers', () => {
  for (const status of [500, 502, 503]) {
    it(`upstream answering ${status} for manifests and blobs › 502 UNAVAILABLE without its body, after at most the bounded retries`, async () => {
      const unsigned = await fresh('unsigned');
      front.inject(/^(GET|HEAD) \/v2\/faults\/[^/]+\/(manifests|blobs)\//, { kind: 'status', status });
      const before = front.requests.length;
      for (const answer of [
        await pullManifest(proxy.url, 'faults/app', 'v1'),
        await pullManifest(proxy.url, unsigned.repository, 'v1'),
        await pullManifest(proxy.url, unsigned.repository, unsigned.image.manifestDigest),
        await pullBlob(proxy.url, 'faults/app', signed.layerDigests[0]!),
      ]) {
        assertClosed(answer, 502, 'UNAVAILABLE', BOUND);
        assert.doesNotMatch(answer.body.toString(), /injected/, 'the upstream body is not echoed');
      }
      const tagAttempts = front.requests.slice(before).filter((r) => r.endsWith(`${unsigned.repository}/manifests/v1`)).length;
      assert.equal(tagAttempts, status === 500 ? 1 : 3, 'only 502/503/504 are retried');
      await stillHealthy();
    });
  }

  it('upstream answering 429 with Retry-After › 429 TOOMANYREQUESTS passing Retry-After on, not retried', async () => {
    const unsigned = await fresh('unsigned');
    front.inject(/^(GET|HEAD) \/v2\/faults\/[^/]+\/manifests\//, { kind: 'status', status: 429, headers: { 'retry-after': '17' } });
    const before = front.requests.length;
    for (const answer of [await pullManifest(proxy.url, 'faults/app', 'v1'), await pullManifest(proxy.url, unsigned.repository, 'v1')]) {
      assertClosed(answer, 429, 'TOOMANYREQUESTS', BOUND);
      assert.equal(answer.headers['retry-after'], '17');
    }
    const attempts = front.requests.slice(before).filter((r) => r === `GET /v2/${unsigned.repository}/manifests/v1`).length;
    assert.equal(attempts, 1, 'a 429 is not retried');
    await stillHealthy();
  });

  it('upstream answering 429 to the signature lookup › 429 for signed and unsigned alike, and the signed image is allowed once it stops', async () => {
    const image = await fresh('signed');
    const unsigned = await fresh('unsigned');
    front.inject(/^GET \/v2\/faults\/[^/]+\/manifests\/sha256-[0-9a-f]{64}\.sig$/, {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '5' },
    });
    for (const answer of [
      await pullManifest(proxy.url, image.repository, 'v1'),
      await pullManifest(proxy.url, unsigned.repository, 'v1'),
    ]) {
      assertClosed(answer, 429, 'TOOMANYREQUESTS', BOUND);
      assert.equal(answer.headers['retry-after'], '5');
    }
    front.heal();
    assertServed(await pullManifest(proxy.url, image.repository, 'v1'), image.image.manifestDigest, 'no deny was cached from the 429');
    assertDenied(await pullManifest(proxy.url, unsigned.repository, 'v1'));
  });

  for (const status of [500, 503]) {
    it(`upstream answering ${status} to the signature lookup › 502, never an allow, no deny cached: the signed image is allowed once it recovers`, async () => {
      const image = await fresh('signed');
      const payload = await fresh('signed');
      const unsigned = await fresh('unsigned');
      front.inject(new RegExp(`^GET /v2/(${image.repository}|${unsigned.repository})/manifests/sha256-[0-9a-f]{64}\\.sig$`), {
        kind: 'status',
        status,
      });
      front.inject(new RegExp(`^GET /v2/${payload.repository}/blobs/`), { kind: 'status', status }); // its .sig is fine, the payload is not
      for (const answer of [
        await pullManifest(proxy.url, image.repository, 'v1'),
        await pullManifest(proxy.url, payload.repository, 'v1'),
        await pullManifest(proxy.url, unsigned.repository, 'v1'),
      ]) {
        assertClosed(answer, 502, 'UNAVAILABLE', BOUND);
        assert.match(answer.ociMessage ?? '', new RegExp(`upstream "up" answered ${status}`));
      }
      assert.ok(
        front.requests.some((r) => r.startsWith(`GET /v2/${payload.repository}/blobs/`)),
        'the signature payload was asked for',
      );
      front.heal();
      assertServed(await pullManifest(proxy.url, image.repository, 'v1'), image.image.manifestDigest, 'after a failed signature tag');
      assertServed(
        await pullManifest(proxy.url, payload.repository, 'v1'),
        payload.image.manifestDigest,
        'after a failed signature payload',
      );
      assertDenied(await pullManifest(proxy.url, unsigned.repository, 'v1'));
    });
  }

  it('wrong Docker-Content-Digest on a manifest by tag › 502 DIGEST_INVALID, for the signed and the unsigned image', async () => {
    const unsigned = await fresh('unsigned');
    const image = await fresh('signed');
    // The unsigned image's bytes under the header of the signed one, and the signed bytes under a made-up digest.
    front.inject(new RegExp(`^GET /v2/${unsigned.repository}/manifests/v1$`), {
      kind: 'headers',
      headers: { 'docker-content-digest': image.image.manifestDigest },
    });
    front.inject(new RegExp(`^GET /v2/${image.repository}/manifests/v1$`), {
      kind: 'headers',
      headers: { 'docker-content-digest': `sha256:${'e'.repeat(64)}` },
    });
    const lying = await pullManifest(proxy.url, unsigned.repository, 'v1');
    assertClosed(lying, 502, 'DIGEST_INVALID', BOUND);
    assert.match(
      lying.ociMessage ?? '',
      new RegExp(`hash to ${unsigned.image.manifestDigest}, but Docker-Content-Digest says ${image.image.manifestDigest}`),
    );
    assertClosed(await pullManifest(proxy.url, image.repository, 'v1'), 502, 'DIGEST_INVALID', BOUND);
    front.heal();
    assertServed(await pullManifest(proxy.url, image.repository, 'v1'), image.image.manifestDigest);
    assertDenied(await pullManifest(proxy.url, unsigned.repository, 'v1'));
  });

  it('unsigned bytes served for a signed digest, with that digest in Docker-Content-Digest › 502 DIGEST_INVALID, never those bytes', async () => {
    const unsigned = await fresh('unsigned');
    const image = await fresh('signed');
    front.inject(new RegExp(`^(GET|HEAD) /v2/${image.repository}/manifests/${image.image.manifestDigest}$`), {
      kind: 'answer',
      status: 200,
      headers: { 'content-type': unsigned.image.mediaType, 'docker-content-digest': image.image.manifestDigest },
      body: unsigned.image.manifestBytes,
    });
    const answer = await pullManifest(proxy.url, image.repository, image.image.manifestDigest);
    assertClosed(answer, 502, 'DIGEST_INVALID', BOUND);
    assert.match(
      answer.ociMessage ?? '',
      new RegExp(`hash to ${unsigned.image.manifestDigest}, not the requested ${image.image.manifestDigest}`),
    );
    front.heal();
    assertServed(await pullManifest(proxy.url, image.repository, image.image.manifestDigest), image.image.manifestDigest);
    await stillHealthy();
  });
});
