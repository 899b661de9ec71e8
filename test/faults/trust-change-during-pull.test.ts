import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { eventually } from '../support/helpers.ts';
import { startFaultyFront, type FaultyFront } from './support/faulty-front.ts';
import { enforcingPolicy, pushImage, sign, signingKey, trustedKey, type SigningKey } from './support/images.ts';
import { assertDenied, assertServed, pullBlob, pullManifest, type Answer } from './support/pull.ts';

// Fault matrix, row 5: the trust store changes while a pull is being verified. The signature
// lookup of the image is held at the upstream while its only signer is revoked; whatever the
// pull in flight answers, nothing it leaves behind (verdict, blob or child allow records) may
// let the image or its blobs through under the new trust version.

const work = mkdtempSync(join(tmpdir(), 'tg-faults-trust-'));
const doomed = signingKey();
const other = signingKey();
let registry: RunningRegistry;
let front: FaultyFront;
let proxy: RunningProxy;
let control: BuiltImage;

let count = 0;
async function freshSigned(key: SigningKey): Promise<{ repository: string; image: BuiltImage }> {
  const repository = `faults/signed-${++count}`;
  const image = await pushImage(registry.url, work, repository, 'v1', `trust-${count}`);
  await sign(registry.url, repository, image, key);
  return { repository, image };
}

before(async () => {
  registry = await startRegistry();
  front = await startFaultyFront(registry.url);
  control = await pushImage(registry.url, work, 'faults/control', 'v1', 'control');
  await sign(registry.url, 'faults/control', control, other);
  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - { name: up, url: "${front.url}", default: true, repositories: ["${front.host}/**"], timeouts: { connectMs: 1000, headersMs: 5000, bodyIdleMs: 5000 } }
`,
    { policy: enforcingPolicy(front.host), keys: [trustedKey('doomed', doomed, front.host), trustedKey('other', other, front.host)] },
  );
});

beforeEach(() => front.heal()); // a test that failed half-way leaves no fault behind

after(async () => {
  await proxy?.close();
  await front?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

const sigLookups = (repository: string): number =>
  front.requests.filter((r) => new RegExp(`^GET /v2/${repository}/manifests/sha256-[0-9a-f]{64}\\.sig$`).test(r)).length;

describe('fault matrix: a trust-store change during a pull', () => {
  it('the only signer revoked while its signature is being verified › the pulls after it, the image by digest and its blobs are denied', async () => {
    const { repository, image } = await freshSigned(doomed);
    const layer = image.layerDigests[0]!;
    let release: () => void = () => {};
    front.inject(new RegExp(`^GET /v2/${repository}/manifests/sha256-[0-9a-f]{64}\\.sig$`), {
      kind: 'hold',
      release: new Promise<void>((r) => (release = r)),
    });

    const inFlight = pullManifest(proxy.url, repository, 'v1');
    await eventually(() => sigLookups(repository) === 1, 5_000, 'the verification is in flight');
    const version = proxy.runtime.trust.snapshot().version;
    await proxy.runtime.trust.revoke('doomed', 'key compromised', Date.now());
    assert.ok(proxy.runtime.trust.snapshot().version > version);
    // Started after the revocation while the first is still held: it must not join the first verification.
    const afterRevocation = pullManifest(proxy.url, repository, 'v1');
    await eventually(() => sigLookups(repository) === 2, 5_000, 'a verification of its own under the new trust version');
    release();
    const [first, second] = await Promise.all([inFlight, afterRevocation]);
    front.heal();

    assert.ok(first.status === 200 || first.status === 403, `the pull in flight: ${first.status} ${first.ociMessage ?? ''}`);
    assertDenied(second, /revoked/);
    // Nothing the first verification finished with may count under the new trust version.
    assertDenied(await pullManifest(proxy.url, repository, 'v1'), /revoked/);
    assertDenied(await pullManifest(proxy.url, repository, image.manifestDigest), /revoked/);
    const blob = await pullBlob(proxy.url, repository, layer);
    assert.equal(blob.status, 403, `a blob of the revoked image after the revocation: ${blob.status}`);
    assert.equal(blob.ociCode, 'DENIED');

    // The process is fine: an image signed by a key still trusted is served, with its blob.
    assertServed(await pullManifest(proxy.url, 'faults/control', 'v1'), control.manifestDigest);
    const controlBlob = await pullBlob(proxy.url, 'faults/control', control.layerDigests[0]!);
    assert.equal(controlBlob.status, 200);
  });

  it('a key revoked after its image was allowed › the cached allow and the blob records stop counting at once', async () => {
    const key = signingKey();
    await proxy.runtime.trust.upsert([
      { id: 'late', kind: 'key', pem: key.publicPem, scopes: [`${front.host}/**`], purposes: ['sign'], origin: 'api' },
    ]);
    const { repository, image } = await freshSigned(key);
    assertServed(await pullManifest(proxy.url, repository, 'v1'), image.manifestDigest);
    const allowed: Answer = await pullBlob(proxy.url, repository, image.layerDigests[0]!);
    assert.equal(allowed.status, 200);
    await proxy.runtime.trust.revoke('late', 'rotated out', Date.now());
    assertDenied(await pullManifest(proxy.url, repository, image.manifestDigest), /revoked/);
    const blob = await pullBlob(proxy.url, repository, image.layerDigests[0]!);
    assert.equal(blob.status, 403);
  });
});
