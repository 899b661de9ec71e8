import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildImage,
  copy,
  inspect,
  makeSimpleSigningPayload,
  push,
  pushCosignSignature,
  signPayload,
  startRegistry,
  type BuiltImage,
  type RunningRegistry,
} from '../kit/index.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'tg-multi-'));
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let registry: RunningRegistry;
let proxy: RunningProxy;
let multi: BuiltImage;
let lone: BuiltImage;

async function sign(repo: string, digest: string): Promise<void> {
  const payload = makeSimpleSigningPayload(digest, `${registry.host}/${repo}`);
  await pushCosignSignature(registry.url, repo, { digest }, [{ payload, signature: signPayload(key.privateKey, payload) }]);
}

async function pushTo(image: BuiltImage, repo: string): Promise<void> {
  const res = await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`);
  assert.equal(res.code, 0, res.stderr);
}

before(async () => {
  registry = await startRegistry();
  multi = await buildImage(join(work, 'multi'), {
    seed: 'multi-arch',
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ],
  });
  lone = await buildImage(join(work, 'lone'), { seed: 'lone', layerBytes: 4096 });
  for (const repo of ['index/app', 'each/app', 'each/all-signed']) {
    await pushTo(multi, repo);
    await sign(repo, multi.manifestDigest);
  }
  for (const child of multi.children) await sign('each/all-signed', child.digest);
  await pushTo(lone, 'blobs/unsigned');
  await pushTo(lone, 'blobs/signed');
  await sign('blobs/signed', lone.manifestDigest);
  const host = registry.host;
  proxy = await startProxy(
    `listen: { plainHttp: true }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/**"] }\n`,
    {
      policy: `version: 1
rules:
  - { name: by-index, images: ["${host}/index/**", "${host}/blobs/**"], multiArch: index }
  - { name: each-child, images: ["${host}/each/**"], multiArch: each }
`,
      keys: [{ id: 'release', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${host}/**`] }],
    },
  );
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('multi-arch images', () => {
  it('mode index › a child pulled by digest before its index is judged on its own signatures: denied', async () => {
    const res = await inspect(`docker://${proxy.host}/index/app@${multi.children[1]!.digest}`, { raw: true });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no signature found/);
  });

  it('mode index › the signed index covers its children: copy --all works and children match', async () => {
    const out = join(work, 'index-all');
    const res = await copy(`docker://${proxy.host}/index/app:v1`, `oci:${out}`, { all: true });
    assert.equal(res.code, 0, res.stderr);
    for (const child of multi.children) {
      const one = await inspect(`docker://${proxy.host}/index/app@${child.digest}`, { raw: true });
      assert.equal(one.code, 0, one.stderr);
      assert.equal(sha256(one.stdoutBytes), child.digest);
    }
  });

  it('mode each › the signed index is served, but unsigned children are denied', async () => {
    const index = await inspect(`docker://${proxy.host}/each/app:v1`, { raw: true });
    assert.equal(index.code, 0, index.stderr);
    const res = await copy(`docker://${proxy.host}/each/app:v1`, `oci:${join(work, 'each-all')}`, { all: true });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /rule \\?"each-child\\?"\): no signature found/);
  });

  it('mode each › with every child signed, copy --all works', async () => {
    const res = await copy(`docker://${proxy.host}/each/all-signed:v1`, `oci:${join(work, 'each-signed')}`, { all: true });
    assert.equal(res.code, 0, res.stderr);
  });
});

describe('the blob gate', () => {
  const layer = () => lone.children[0]!.layers[0]!;

  it('a layer of an unsigned image cannot be pulled by digest', async () => {
    const res = await fetch(`${proxy.url}/v2/blobs/unsigned/blobs/${layer()}`);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { errors: Array<{ code: string; message: string; detail: { reasons: string[] } }> };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.deepEqual(body.errors[0]!.detail.reasons, ['blob_not_referenced']);
  });

  it('the same layer is served from the repository whose allowed manifest references it', async () => {
    const before = await fetch(`${proxy.url}/v2/blobs/signed/blobs/${layer()}`);
    assert.equal(before.status, 403, 'not before its manifest was allowed');
    await before.arrayBuffer();
    const manifest = await fetch(`${proxy.url}/v2/blobs/signed/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(manifest.status, 200);
    await manifest.arrayBuffer();
    const res = await fetch(`${proxy.url}/v2/blobs/signed/blobs/${layer()}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layer());
  });
});
