import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 },
    layers: [],
  }),
);
const DIGEST = digestOf(manifest);
const SIG_TAG = `/v2/allowed/app/manifests/${DIGEST.replace(':', '-')}.sig`;

let upstream: FakeUpstream;
let harness: Harness;
let verifications = 0;

before(async () => {
  upstream = await startFakeUpstream();
  const host = upstream.host;
  // A cosign signature served by the in-process upstream: payload blob plus the .sig manifest.
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': `${host}/allowed/app` },
        image: { 'docker-manifest-digest': DIGEST },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  const signature = sign('sha256', payload, key.privateKey).toString('base64');
  const sigManifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('{}')), size: 2 },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          digest: digestOf(payload),
          size: payload.length,
          annotations: { 'dev.cosignproject.cosign/signature': signature },
        },
      ],
    }),
  );
  upstream.on('/v2/allowed/app/manifests/v1', manifestAnswer(manifest, MediaType.ociManifest));
  upstream.on(SIG_TAG, (req, res) => void setTimeout(() => manifestAnswer(sigManifest, MediaType.ociManifest)(req, res), 200));
  // A runnable image hiding under a signature-looking tag.
  const runnable = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'d'.repeat(64)}`, size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'e'.repeat(64)}`, size: 10 }],
    }),
  );
  upstream.on(`/v2/allowed/app/manifests/sha256-${'0'.repeat(64)}.sig`, manifestAnswer(runnable, MediaType.ociManifest));
  upstream.on(
    `/v2/allowed/app/blobs/${digestOf(payload)}`,
    (_req, res) => void res.writeHead(200, { 'content-length': payload.length }).end(payload),
  );
  harness = await appFor(singleUpstream(upstream.url), {
    policy: `version: 1\nrules:\n  - { name: signed, images: ["${host}/allowed/**"] }\n`,
    keys: [{ id: 'ci', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${host}/**`] }],
    onVerify: () => {
      verifications += 1;
    },
  });
});
after(async () => {
  await harness.close();
  await upstream.close();
});

describe('signature artifacts', () => {
  it('the cosign .sig manifest itself is served, so clients can verify for themselves', async () => {
    const res = await request(harness.app).get(SIG_TAG);
    assert.equal(res.status, 200);
  });
  it('a runnable image under a .sig-looking tag is judged as an image: denied', async () => {
    const res = await request(harness.app).get(`/v2/allowed/app/manifests/sha256-${'0'.repeat(64)}.sig`);
    assert.equal(res.status, 403);
    assert.match(JSON.parse(res.text).errors[0].message, /no signature found/);
  });
});

describe('single flight', () => {
  it('100 concurrent pulls of a new digest › one verification and one signature fetch; all allowed', async () => {
    const before = verifications;
    upstream.requests.length = 0;
    const responses = await Promise.all(Array.from({ length: 100 }, () => request(harness.app).get('/v2/allowed/app/manifests/v1')));
    assert.deepEqual([...new Set(responses.map((r) => r.status))], [200]);
    assert.equal(verifications - before, 1);
    assert.equal(upstream.requests.filter((r) => r === `GET ${SIG_TAG}`).length, 1);
  });

  it('later pulls hit the verdict cache › no new verification', async () => {
    const before = verifications;
    await request(harness.app).get('/v2/allowed/app/manifests/v1').expect(200);
    assert.equal(verifications, before);
  });
});

describe('warn mode', () => {
  it('an unsigned image under a warn rule is served with a Warning: 299 header that says why', async () => {
    const warnUpstream = await startFakeUpstream();
    const unsigned = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'f'.repeat(64)}`, size: 2 },
        layers: [],
      }),
    );
    warnUpstream.on('/v2/allowed/soft/manifests/v1', manifestAnswer(unsigned, MediaType.ociManifest));
    const soft = await appFor(singleUpstream(warnUpstream.url), {
      policy: `version: 1\nrules:\n  - { name: soft, images: ["${warnUpstream.host}/allowed/**"], mode: warn }\n`,
    });
    try {
      const res = await request(soft.app).get('/v2/allowed/soft/manifests/v1');
      assert.equal(res.status, 200);
      assert.match(
        res.headers['warning'] ?? '',
        /^299 - "trustgate: rule 'soft' is in warn mode and would deny this pull: no signature found"$/,
      );
    } finally {
      await soft.close();
      await warnUpstream.close();
    }
  });
});
