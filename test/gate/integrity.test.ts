// The integrity invariant by example (docs/integrity.md): every manifest or blob served is named by
// a manifest that passed the policy for that repository, under a verdict still valid. One test per
// attack of issue #11; test/fuzz/targets/integrity.ts attacks the same invariant with random graphs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { COSIGN_SIG_ARTIFACT, Graph } from './integrity-support.ts';

const HOUR = 3_600_000;
let clock = Date.parse('2030-01-01T00:00:00Z');
let upstream: FakeUpstream;
let graph: Graph;
let gate: AdminApp;
let km: string;

const policy = (host: string): string => `version: 1
rules:
  - { name: idx, images: ["${host}/allowed/idx/**"], multiArch: index }
  - { name: exact, images: ["${host}/allowed/exact/**"], signatures: { signedIdentity: exact } }
  - { name: plain, images: ["${host}/allowed/plain/**"] }
`;
const get = (path: string) => request(gate.app).get(path);
const manifest = (repo: string, ref: string) => get(`/v2/${repo}/manifests/${ref}`);
const blob = (repo: string, digest: string) => get(`/v2/${repo}/blobs/${digest}`);
const reasons = (res: request.Response): string[] =>
  (JSON.parse(res.text) as { errors: { detail: { reasons: string[] } }[] }).errors[0]!.detail.reasons;

before(async () => {
  upstream = await startFakeUpstream();
  graph = new Graph(upstream);
  gate = await adminApp(singleUpstream(upstream.url), {
    policy: policy(upstream.host),
    keys: [{ id: 'release', pem: graph.publicPem(), scopes: [`${upstream.host}/**`] }],
    now: () => clock,
  });
  km = await gate.bearer('kim', ['key-manager']);
});
after(async () => {
  await gate?.close();
  await upstream?.close();
});

describe('an index is never a signature artifact', () => {
  it('an unsigned index dressed as a cosign signature, with an unsigned child › neither the index, the child nor its layer is served', async () => {
    const repo = 'allowed/idx/dressed';
    const unsigned = graph.image(repo, 'dressed child');
    graph.index(repo, [{ ...unsigned, extra: { artifactType: COSIGN_SIG_ARTIFACT } }], ['latest'], { artifactType: COSIGN_SIG_ARTIFACT });
    graph.index(repo, [], ['empty'], { artifactType: COSIGN_SIG_ARTIFACT });
    const index = await manifest(repo, 'latest');
    assert.equal(index.status, 403);
    assert.deepEqual(reasons(index), ['unsigned']);
    assert.equal((await manifest(repo, 'empty')).status, 403, 'an index with no children');
    assert.equal((await manifest(repo, unsigned.digest)).status, 403);
    assert.deepEqual(reasons(await blob(repo, unsigned.layer.digest)), ['blob_not_referenced']);
  });

  it('a signed index (mode index) › its children and their layers are served after it', async () => {
    const repo = 'allowed/idx/signed';
    const child = graph.image(repo, 'signed child');
    const index = graph.index(repo, [child], ['v1']);
    graph.sign(repo, index, `${upstream.host}/${repo}:v1`);
    assert.equal((await manifest(repo, 'v1')).status, 200);
    assert.equal((await manifest(repo, child.digest)).status, 200);
    const layer = await blob(repo, child.layer.digest);
    assert.equal(layer.status, 200);
    assert.deepEqual(layer.body, child.layer.bytes);
  });
});

describe('a fake signature manifest opens nothing', () => {
  it("with the denied image's runnable config › judged as an image: denied, and its layer and config stay refused", async () => {
    const repo = 'allowed/plain/fake';
    const denied = graph.image(repo, 'denied');
    graph.fakeSignature(repo, denied, denied.config, ['fake']);
    assert.deepEqual(reasons(await manifest(repo, 'fake')), ['unsigned']);
    assert.equal((await blob(repo, denied.layer.digest)).status, 403);
    assert.equal((await blob(repo, denied.config.digest)).status, 403);
  });

  it("with a config shaped like cosign's › served as a signature artifact, but the tar.gz layer it names does not parse as simple-signing: refused", async () => {
    const repo = 'allowed/plain/fake2';
    const denied = graph.image(repo, 'denied 2');
    const config = graph.configBlob({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [denied.layer.digest] }, config: {} });
    graph.fakeSignature(repo, denied, config, ['fake']);
    assert.equal((await manifest(repo, 'fake')).status, 200);
    const layer = await blob(repo, denied.layer.digest);
    assert.equal(layer.status, 403);
    assert.match(
      layer.text,
      /only a signature artifact names this blob, and it does not parse as application\/vnd\.dev\.cosign\.simplesigning\.v1\+json/,
    );
    assert.equal((await blob(repo, config.digest)).status, 200, 'its own config runs nothing: served');
    assert.equal((await manifest(repo, denied.digest)).status, 403);
  });

  it('a real cosign signature › its manifest, payload and config are served, so clients can verify for themselves', async () => {
    const repo = 'allowed/plain/real';
    const image = graph.image(repo, 'real');
    const sig = graph.sign(repo, image, `${upstream.host}/${repo}:v1`);
    assert.equal((await manifest(repo, `${image.digest.replace(':', '-')}.sig`)).status, 200);
    const payload = await blob(repo, sig.payload.digest);
    assert.equal(payload.status, 200);
    assert.deepEqual(payload.body, sig.payload.bytes);
    assert.equal((await blob(repo, sig.config.digest)).status, 200);
    assert.equal((await blob(repo, image.layer.digest)).status, 403, 'the signature does not open the image it signs');
  });
});

describe('verdict keys cover the tag an exact identity reads', () => {
  it('signed for :v1 › :v1 allowed, then :prod and @digest of the same digest denied', async () => {
    const repo = 'allowed/exact/a';
    const image = graph.image(repo, 'exact a', ['v1', 'prod']);
    graph.sign(repo, image, `${upstream.host}/${repo}:v1`);
    assert.equal((await manifest(repo, 'v1')).status, 200);
    assert.deepEqual(reasons(await manifest(repo, 'prod')), ['identity_mismatch']);
    assert.deepEqual(reasons(await manifest(repo, image.digest)), ['identity_mismatch']);
  });

  it('a pull by digest first does not make the correctly signed :v1 fail', async () => {
    const repo = 'allowed/exact/b';
    const image = graph.image(repo, 'exact b', ['v1']);
    graph.sign(repo, image, `${upstream.host}/${repo}:v1`);
    assert.equal((await manifest(repo, image.digest)).status, 403);
    assert.equal((await manifest(repo, 'v1')).status, 200);
  });
});

describe('allowances end with their source', () => {
  it('break glass for an index digest › the index only, not its children; ended › its own blobs stop at once', async () => {
    const repo = 'allowed/plain/bg';
    const child = graph.image(repo, 'bg child');
    const index = graph.index(repo, [child]);
    const alone = graph.image(repo, 'bg alone');
    const open = async (digest: string): Promise<string> => {
      const res = await request(gate.app)
        .post('/admin/v1/breakglass')
        .set('authorization', km)
        .send({ image: `${upstream.host}/${repo}@${digest}`, reason: 'incident 42', expires: new Date(clock + HOUR).toISOString() });
      assert.equal(res.status, 201, res.text);
      return (JSON.parse(res.text) as { id: string }).id;
    };
    await open(index.digest);
    assert.equal((await manifest(repo, index.digest)).status, 200);
    assert.equal((await manifest(repo, child.digest)).status, 403, 'a digest entry covers exactly what it names');
    assert.equal((await blob(repo, child.layer.digest)).status, 403);

    const id = await open(alone.digest);
    assert.equal((await manifest(repo, alone.digest)).status, 200);
    assert.equal((await blob(repo, alone.layer.digest)).status, 200);
    assert.equal((await request(gate.app).delete(`/admin/v1/breakglass/${id}`).set('authorization', km)).status, 200);
    assert.deepEqual(reasons(await blob(repo, alone.layer.digest)), ['blob_not_referenced']);
  });

  it('break glass never serves a manifest format no signature can cover (schema 1)', async () => {
    const repo = 'allowed/plain/schema1';
    upstream.on(
      `/v2/${repo}/manifests/old`,
      manifestAnswer(
        Buffer.from('{"schemaVersion":1,"name":"x","fsLayers":[]}'),
        'application/vnd.docker.distribution.manifest.v1+prettyjws',
      ),
    );
    const res = await request(gate.app)
      .post('/admin/v1/breakglass')
      .set('authorization', km)
      .send({ image: `${upstream.host}/${repo}`, reason: 'INC-7', expires: new Date(clock + HOUR).toISOString() });
    assert.equal(res.status, 201, res.text);
    const pulled = await manifest(repo, 'old');
    assert.equal(pulled.status, 403);
    assert.deepEqual(reasons(pulled), ['unsupported_manifest']);
  });

  it("a child pulled later does not extend its blobs past its index's verdict", async () => {
    const repo = 'allowed/idx/ttl';
    const child = graph.image(repo, 'ttl child');
    const index = graph.index(repo, [child], ['v1']);
    graph.sign(repo, index, `${upstream.host}/${repo}:v1`);
    assert.equal((await manifest(repo, 'v1')).status, 200);
    clock += HOUR - 60_000;
    assert.equal((await manifest(repo, child.digest)).status, 200);
    assert.equal((await blob(repo, child.layer.digest)).status, 200);
    clock += 120_000; // past the index verdict's allowTtlMs
    assert.equal((await blob(repo, child.layer.digest)).status, 403);
  });

  it('a key revoked › the blobs its signature allowed stop at once', async () => {
    const repo = 'allowed/plain/revoked';
    const image = graph.image(repo, 'revoked', ['v1']);
    graph.sign(repo, image, `${upstream.host}/${repo}:v1`);
    assert.equal((await manifest(repo, 'v1')).status, 200);
    assert.equal((await blob(repo, image.layer.digest)).status, 200);
    await gate.runtime.trust.revoke('release', 'leaked', clock);
    assert.equal((await blob(repo, image.layer.digest)).status, 403);
    assert.deepEqual(reasons(await manifest(repo, 'v1')), ['key_revoked']);
  });
});
