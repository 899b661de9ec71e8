import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const PATH = '/v2/allowed/app/manifests';
const manifestWith = (layers: string): Buffer =>
  Buffer.from(
    `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:${'a'.repeat(64)}","size":2},"layers":[${layers}]}`,
  );
const first = manifestWith('');
const moved = manifestWith(' ');

describe('manifests.tagTtlMs (tag resolution time-to-live, off by default)', () => {
  let upstream: FakeUpstream;
  let harness: Harness;
  let clock = 1_000_000;
  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on(`${PATH}/v1`, manifestAnswer(first, MediaType.ociManifest));
    harness = await appFor(singleUpstream(upstream.url, 'manifests: { tagTtlMs: 5000 }'), { now: () => clock });
  });
  after(async () => {
    await harness.close();
    await upstream.close();
  });

  it('within the TTL › a repeated by-tag pull is answered without asking the upstream, even if the tag moved', async () => {
    await request(harness.app).get(`${PATH}/v1`).expect(200);
    upstream.requests.length = 0;
    upstream.on(`${PATH}/v1`, manifestAnswer(moved, MediaType.ociManifest));
    clock += 4_999;
    const res = await request(harness.app).get(`${PATH}/v1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], digestOf(first), 'the stale resolution is the documented trade-off');
    assert.deepEqual(upstream.requests, []);
  });

  it('once the TTL passed › the tag is resolved upstream again and the new digest served', async () => {
    clock += 2;
    upstream.requests.length = 0;
    const res = await request(harness.app).get(`${PATH}/v1`);
    assert.equal(res.headers['docker-content-digest'], digestOf(moved));
    assert.deepEqual(
      upstream.requests.map((r) => r.split(' ')[0]),
      ['HEAD', 'GET'],
    );
  });

  it('a HEAD that confirms the digest restarts the TTL', async () => {
    clock += 5_001;
    upstream.requests.length = 0;
    await request(harness.app).get(`${PATH}/v1`).expect(200);
    assert.deepEqual(upstream.requests, [`HEAD ${PATH}/v1`]);
    clock += 4_000;
    upstream.requests.length = 0;
    await request(harness.app).get(`${PATH}/v1`).expect(200);
    assert.deepEqual(upstream.requests, []);
  });
});
