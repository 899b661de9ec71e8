import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { records } from '../support/child-proxy.ts';
import { runtimeFiles, type RuntimeFiles } from '../support/runtime-files.ts';
import { spawnProxy, type ChildProxy } from '../support/child-proxy.ts';
import { startFaultyFront, type FaultyFront } from './support/faulty-front.ts';
import { enforcingPolicy, pushImage, sign, signingKey, trustedKey } from './support/images.ts';
import { assertDenied, assertServed, pullBlob, pullManifest, sha256 } from './support/pull.ts';

// Fault matrix, row 6: SIGTERM under load, to the real process (src/main.ts). Requests in flight
// when the signal comes (held at the upstream until after it) finish with their normal answer:
// the signed image and its blob whole, the unsigned image denied. New connections are refused
// from the signal on, and the process exits 0 once the last answer is out, inside the grace period.

const GRACE_MS = 5_000;
const SLACK_MS = 1_500;
const LAYER_BYTES = 256 * 1024;
const work = mkdtempSync(join(tmpdir(), 'tg-faults-sigterm-'));
const key = signingKey();
let registry: RunningRegistry;
let front: FaultyFront;
let files: RuntimeFiles;
let tg: ChildProxy;
let url: string;
let signed: BuiltImage;
const UNSIGNED = 4;

before(async () => {
  registry = await startRegistry();
  front = await startFaultyFront(registry.url);
  signed = await pushImage(registry.url, work, 'faults/app', 'v1', 'signed', LAYER_BYTES);
  await sign(registry.url, 'faults/app', signed, key);
  for (let i = 1; i <= UNSIGNED; i++) await pushImage(registry.url, work, `faults/unsigned-${i}`, 'v1', `unsigned-${i}`);
  files = runtimeFiles(enforcingPolicy(front.host), [trustedKey('ci', key, front.host)]);
  tg = spawnProxy(
    `listen: { address: "127.0.0.1:0", plainHttp: true, shutdownGraceMs: ${GRACE_MS} }
upstreams:
  - { name: up, url: "${front.url}", default: true, repositories: ["${front.host}/**"] }`,
    {},
    files,
  );
  url = await tg.ready();
  assertServed(await pullManifest(url, 'faults/app', 'v1'), signed.manifestDigest); // its blob is now allowed
});

after(async () => {
  await tg?.kill();
  files?.remove();
  await front?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('fault matrix: SIGTERM under load', () => {
  it('SIGTERM with 16 pulls in flight › each gets its normal answer, new connections are refused, exit 0 within the grace period', async () => {
    const layer = signed.layerDigests[0]!;
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    front.inject(/^(GET|HEAD) \/v2\/faults\/(app|unsigned-\d+)\/manifests\/v1$/, { kind: 'hold', release: held });
    front.inject(new RegExp(`^GET /v2/faults/app/blobs/${layer}$`), { kind: 'hold', release: held });
    const seen = front.requests.length;

    const signedPulls = Array.from({ length: 8 }, () => pullManifest(url, 'faults/app', 'v1'));
    const unsignedPulls = Array.from({ length: UNSIGNED }, (_, i) => pullManifest(url, `faults/unsigned-${i + 1}`, 'v1'));
    const blobPulls = Array.from({ length: 4 }, () => pullBlob(url, 'faults/app', layer));
    for (let i = 0; front.requests.length - seen < 16; i++) {
      assert.ok(i < 400, `all 16 requests reached the upstream (${front.requests.length - seen})`);
      await new Promise((r) => setTimeout(r, 25));
    }

    const signalled = performance.now();
    tg.child.kill('SIGTERM');
    await tg.waitFor(/"event":"stopping"/, 5_000);
    await assert.rejects(fetch(`${url}/v2/`), 'no new connections once stopping');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(tg.child.exitCode, null, 'waiting for the requests in flight');
    release();

    for (const answer of await Promise.all(signedPulls)) {
      assertServed(answer, signed.manifestDigest);
      assert.equal(answer.headers['connection'], 'close');
    }
    for (const answer of await Promise.all(unsignedPulls)) assertDenied(answer);
    for (const answer of await Promise.all(blobPulls)) {
      assert.equal(answer.status, 200);
      assert.ok(answer.complete, 'the blob stream completed');
      assert.equal(answer.body.length, Number(answer.headers['content-length']));
      assert.equal(sha256(answer.body), layer);
    }

    assert.equal(await tg.exited, 0);
    const took = performance.now() - signalled;
    assert.ok(took < GRACE_MS + SLACK_MS, `exited ${Math.round(took)} ms after SIGTERM`);
    const [drained] = records(tg.out(), 'drained');
    assert.equal(drained?.['forced'], false, 'every request finished; none was cut');
    assert.equal(records(tg.out(), 'decision').filter((d) => d['outcome'] === 'allow').length, 1 + 8);
    assert.equal(records(tg.out(), 'decision').filter((d) => d['outcome'] === 'deny').length, UNSIGNED);
  });
});
