import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { ociError } from '../support/oci-error.ts';
import { binary } from '../support/binary.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const LAYER = `sha256:${'a'.repeat(64)}`;
const manifest = Buffer.from(
  // Deliberately not canonical JSON: the digest is over these exact bytes.
  `{\n   "schemaVersion": 2,\n   "mediaType": "${MediaType.ociManifest}",\n   "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "${LAYER}", "size": 2},\n   "layers": []\n}`,
);
const DIGEST = digestOf(manifest);
const PATH = '/v2/allowed/app/manifests';

let upstream: FakeUpstream;
let harness: Harness;

before(async () => {
  upstream = await startFakeUpstream();
  harness = await appFor(singleUpstream(upstream.url));
});
after(async () => {
  await harness.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.on(`${PATH}/v1`, manifestAnswer(manifest, MediaType.ociManifest));
  upstream.on(`${PATH}/${DIGEST}`, manifestAnswer(manifest, MediaType.ociManifest));
});

describe('the /v2/ ping', () => {
  it('answers 200 with the distribution API version header', async () => {
    const res = await request(harness.app).get('/v2/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  });
});

describe('manifest pulls', () => {
  it('by tag › serves exactly the upstream bytes with digest, type and length', async () => {
    const res = await request(harness.app).get(`${PATH}/v1`).buffer(true).parse(binary);
    assert.equal(res.status, 200);
    assert.ok(Buffer.compare(res.body as Buffer, manifest) === 0);
    assert.equal(res.headers['docker-content-digest'], DIGEST);
    assert.equal(res.headers['content-type'], MediaType.ociManifest);
    assert.equal(res.headers['content-length'], String(manifest.length));
  });

  it('HEAD by tag › is gated on the full manifest and sends no body', async () => {
    const res = await request(harness.app).head(`${PATH}/v1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], DIGEST);
    assert.equal(res.headers['content-length'], String(manifest.length));
    assert.ok(upstream.requests.some((r) => r.startsWith('GET ') || r.startsWith('HEAD ')));
  });

  it('by digest twice › the second answer comes from the cache', async () => {
    await request(harness.app).get(`${PATH}/${DIGEST}`).expect(200);
    const before = upstream.requests.length;
    const res = await request(harness.app).get(`${PATH}/${DIGEST}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], DIGEST);
    assert.equal(upstream.requests.length, before);
  });

  it('by tag again › the tag is resolved afresh upstream with a HEAD', async () => {
    await request(harness.app).get(`${PATH}/v1`).expect(200);
    upstream.requests.length = 0;
    await request(harness.app).get(`${PATH}/v1`).expect(200);
    assert.deepEqual(upstream.requests, [`HEAD ${PATH}/v1`]);
  });

  it('when the tag moved › serves the new bytes, not the cached ones', async () => {
    await request(harness.app).get(`${PATH}/v1`).expect(200);
    const moved = Buffer.from(manifest.toString().replace('"layers": []', '"layers": [ ]'));
    upstream.on(`${PATH}/v1`, manifestAnswer(moved, MediaType.ociManifest));
    const res = await request(harness.app).get(`${PATH}/v1`);
    assert.equal(res.headers['docker-content-digest'], digestOf(moved));
  });

  it('when the bytes do not hash to the requested digest › 502 DIGEST_INVALID naming the upstream', async () => {
    const wrong = `sha256:${'b'.repeat(64)}`;
    upstream.on(`${PATH}/${wrong}`, manifestAnswer(manifest, MediaType.ociManifest, { 'docker-content-digest': wrong }));
    const res = await request(harness.app).get(`${PATH}/${wrong}`);
    assert.equal(res.status, 502);
    const error = ociError(res);
    assert.equal(error.code, 'DIGEST_INVALID');
    assert.match(error.message, /upstream "up" sent a manifest that fails its digest check/);
  });

  it('when Docker-Content-Digest disagrees with the bytes › 502 DIGEST_INVALID', async () => {
    upstream.on(`${PATH}/v1`, manifestAnswer(manifest, MediaType.ociManifest, { 'docker-content-digest': `sha256:${'d'.repeat(64)}` }));
    const res = await request(harness.app).get(`${PATH}/v1`);
    assert.equal(res.status, 502);
    assert.equal(ociError(res).code, 'DIGEST_INVALID');
  });

  it('when the manifest is over the 4 MiB cap › 502 MANIFEST_INVALID', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    upstream.on(`${PATH}/big`, manifestAnswer(big, MediaType.ociManifest));
    const res = await request(harness.app).get(`${PATH}/big`);
    assert.equal(res.status, 502);
    assert.equal(ociError(res).code, 'MANIFEST_INVALID');
  });

  it('when the upstream answers schema 1 › 403 DENIED, reason unsupported_manifest, counted like any decision', async () => {
    upstream.on(`${PATH}/old`, manifestAnswer(Buffer.from('{"schemaVersion":1,"name":"x"}'), MediaType.dockerSchema1Signed));
    const counted = async (): Promise<number> =>
      Number(
        /trustgate_decisions_total\{[^}]*outcome="deny"[^}]*reason="unsupported_manifest"[^}]*\} (\d+)/.exec(
          await harness.runtime.deps.metrics.registry.metrics(),
        )?.[1] ?? 0,
      );
    const before = await counted();
    const res = await request(harness.app).get(`${PATH}/old`);
    assert.equal(res.status, 403);
    const error = ociError(res);
    assert.equal(error.code, 'DENIED');
    assert.match(error.message, /schema 1/);
    assert.deepEqual((error.detail as { reasons: string[]; rule: string }).reasons, ['unsupported_manifest']);
    assert.equal((error.detail as { rule: string }).rule, 'manifest-format');
    assert.equal(await counted(), before + 1);
  });

  it('schema 1 is never asked for upstream', async () => {
    await request(harness.app).get(`${PATH}/v1`).set('accept', `${MediaType.dockerSchema1Signed}, ${MediaType.ociManifest}`).expect(200);
    const accept = upstream.headers.at(-1)?.accept ?? '';
    assert.ok(!accept.includes('v1+prettyjws'));
    assert.ok(accept.includes(MediaType.ociManifest));
  });

  it('when the upstream has no such manifest › 404 MANIFEST_UNKNOWN', async () => {
    const res = await request(harness.app).get(`${PATH}/missing`);
    assert.equal(res.status, 404);
    assert.equal(ociError(res).code, 'MANIFEST_UNKNOWN');
  });

  it('If-None-Match with the digest › 304 after the gate', async () => {
    const res = await request(harness.app).get(`${PATH}/v1`).set('if-none-match', `"${DIGEST}"`);
    assert.equal(res.status, 304);
  });

  it('an invalid manifest body › 502 naming the upstream', async () => {
    upstream.on(`${PATH}/junk`, manifestAnswer(Buffer.from('{"schemaVersion": 2, "mediaType"'), MediaType.ociManifest));
    const res = await request(harness.app).get(`${PATH}/junk`);
    assert.equal(res.status, 502);
    assert.match(ociError(res).message, /upstream "up" sent an invalid manifest/);
  });
});

describe('the source allowlist', () => {
  it('a repository outside every pattern › 403 DENIED source_not_allowed, nothing sent upstream', async () => {
    const res = await request(harness.app).get('/v2/secret/app/manifests/v1');
    assert.equal(res.status, 403);
    const error = ociError(res);
    assert.equal(error.code, 'DENIED');
    assert.match(
      error.message,
      /trustgate denied 127\.0\.0\.1:\d+\/secret\/app \(rule "source-allowlist"\): not on the allowlist of upstream "up"/,
    );
    assert.deepEqual((error.detail as { reasons: string[] }).reasons, ['source_not_allowed']);
    assert.equal(upstream.requests.length, 0);
  });

  it('blobs, tags and referrers of such a repository are denied too', async () => {
    for (const path of [`/v2/secret/app/blobs/${LAYER}`, '/v2/secret/app/tags/list', `/v2/secret/app/referrers/${LAYER}`]) {
      const res = await request(harness.app).get(path);
      assert.equal(res.status, 403, path);
    }
    assert.equal(upstream.requests.length, 0);
  });

  it('an ns naming no configured registry › 403 DENIED, never the default upstream', async () => {
    const res = await request(harness.app).get(`${PATH}/v1?ns=evil.example`);
    assert.equal(res.status, 403);
    assert.match(ociError(res).message, /"evil\.example" \(from ns\) is not served by this proxy/);
    assert.equal(upstream.requests.length, 0);
  });

  it('an ns naming the upstream host works and is echoed as OCI-Namespace', async () => {
    const res = await request(harness.app).get(`${PATH}/v1?ns=${upstream.host}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['oci-namespace'], upstream.host);
  });
});

describe('bad requests', () => {
  it('push and delete › 405 UNSUPPORTED', async () => {
    for (const [method, path] of [
      ['put', `${PATH}/v1`],
      ['delete', `${PATH}/v1`],
      ['post', '/v2/allowed/app/blobs/uploads/'],
    ] as const) {
      const res = await request(harness.app)[method](path);
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(ociError(res).code, 'UNSUPPORTED');
    }
  });
  it('the catalog › 405 UNSUPPORTED', async () => {
    assert.equal((await request(harness.app).get('/v2/_catalog')).status, 405);
  });
  it('a malformed name or digest › 400 before anything goes upstream', async () => {
    assert.equal(ociError(await request(harness.app).get('/v2/allowed/../x/manifests/v1').expect(400)).code, 'NAME_INVALID');
    assert.equal(ociError(await request(harness.app).get('/v2/allowed/app/manifests/sha256:XYZ').expect(400)).code, 'DIGEST_INVALID');
    assert.equal(upstream.requests.length, 0);
  });
});
