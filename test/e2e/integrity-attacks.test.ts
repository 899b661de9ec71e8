// The gate-integrity attacks that need more than a generated graph, end to end with skopeo
// (docs/integrity.md): break glass for an index digest, ended through the admin API; the verdict
// key under `signedIdentity: exact`; and a schema 1 manifest. The dressed index and the fake
// signature are pulled with skopeo in test/e2e/integrity-skopeo.test.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, copy, cosignSignImage, inspect, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-integrity-attacks-'));
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const HOUR = 3_600_000;
let registry: RunningRegistry;
let proxy: RunningProxy;
let tokens: AdminTokens;
let multi: BuiltImage;
let single: BuiltImage;
let exact: BuiltImage;

const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${proxy.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await tokens.mint('kim', ['key-manager'])}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const pull = (ref: string, dir: string) => copy(`docker://${proxy.host}/${ref}`, `oci:${join(work, dir)}`);

before(async () => {
  registry = await startRegistry();
  tokens = await adminTokens(work);
  const host = registry.host;
  multi = await buildImage(join(work, 'multi'), {
    seed: 'bg multi',
    platforms: [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ],
  });
  single = await buildImage(join(work, 'single'), { seed: 'bg single' });
  exact = await buildImage(join(work, 'exact'), { seed: 'exact' });
  for (const [image, ref] of [
    [multi, 'bg/multi:v1'],
    [single, 'bg/single:v1'],
    [exact, 'exact/app:v1'],
    [exact, 'exact/app:prod'],
  ] as const) {
    assert.equal((await push(image.layoutDir, `docker://${host}/${ref}`)).code, 0);
  }
  await cosignSignImage(registry.url, 'exact/app', exact.manifestDigest, `${host}/exact/app:v1`, signer.privateKey);
  proxy = await startProxy(
    `listen: { plainHttp: true }\n${tokens.configYaml}upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/**"] }\n`,
    {
      policy: `version: 1\nrules:\n  - { name: signed, images: ["${host}/bg/**"] }\n  - { name: exact, images: ["${host}/exact/**"], signatures: { signedIdentity: exact } }\n`,
      keys: [{ id: 'release', pem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${host}/**`] }],
    },
  );
});
after(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('break glass through skopeo', () => {
  it('an entry for an index digest › the index is served, its unsigned children are not: skopeo copy fails on the child', async () => {
    const opened = await admin('POST', '/breakglass', {
      image: `${registry.host}/bg/multi@${multi.manifestDigest}`,
      reason: 'INC-11',
      expires: new Date(Date.now() + HOUR).toISOString(),
    });
    assert.equal(opened.status, 201);
    const index = await inspect(`docker://${proxy.host}/bg/multi@${multi.manifestDigest}`, { raw: true });
    assert.equal(index.code, 0, index.stderr);
    const copied = await pull(`bg/multi@${multi.manifestDigest}`, 'multi');
    assert.notEqual(copied.code, 0);
    assert.match(copied.stderr, /denied: trustgate denied .*bg\/multi \(rule \\?"signed\\?"\): no signature found/);
  });

  it('an entry for an image digest › copied, blobs included; ended › the next copy is refused', async () => {
    const opened = await admin('POST', '/breakglass', {
      image: `${registry.host}/bg/single@${single.manifestDigest}`,
      reason: 'INC-12',
      expires: new Date(Date.now() + HOUR).toISOString(),
    });
    assert.equal(opened.status, 201);
    const first = await pull(`bg/single@${single.manifestDigest}`, 'single-1');
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await admin('DELETE', `/breakglass/${String(opened.json['id'])}`)).status, 200);
    const second = await pull(`bg/single@${single.manifestDigest}`, 'single-2');
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /no signature found/);
    const layer = await fetch(`${proxy.url}/v2/bg/single/blobs/${single.layerDigests[0]}`);
    assert.equal(layer.status, 403, 'its layer stopped with the entry');
  });
});

describe('the verdict key under signedIdentity: exact, through skopeo', () => {
  it('signed for :v1 › :v1 copied; then :prod and @digest of the same digest refused; :v1 still copied', async () => {
    assert.equal((await pull('exact/app:v1', 'exact-1')).code, 0);
    const prod = await pull('exact/app:prod', 'exact-2');
    assert.notEqual(prod.code, 0);
    assert.match(prod.stderr, /signed for .*exact\/app:v1.*, not .*exact\/app:prod/);
    assert.notEqual((await pull(`exact/app@${exact.manifestDigest}`, 'exact-3')).code, 0);
    assert.equal((await pull('exact/app:v1', 'exact-4')).code, 0);
  });
});

describe('a schema 1 manifest, through skopeo', () => {
  let legacy: Server;
  let legacyProxy: RunningProxy;
  before(async () => {
    const body = Buffer.from('{"schemaVersion":1,"name":"old/app","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}');
    legacy = createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(legacy.address() as { port: number }).port}`;
    legacyProxy = await startProxy(
      `listen: { plainHttp: true }\nupstreams:\n  - { name: legacy, url: "${url}", default: true, repositories: ["${new URL(url).host}/**"] }\n`,
    );
  });
  after(async () => {
    await legacyProxy?.close();
    await new Promise((resolve) => legacy?.close(resolve));
  });

  it('› denied with reason unsupported_manifest, even under an open policy', async () => {
    const res = await inspect(`docker://${legacyProxy.host}/old/app:v1`, { raw: true });
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      /denied: trustgate denied .*old\/app \(rule \\?"manifest-format\\?"\): Docker schema 1 manifests cannot be signed and are refused/,
    );
  });
});
