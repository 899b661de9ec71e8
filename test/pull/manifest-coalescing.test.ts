import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const manifest = Buffer.from(
  `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:${'c'.repeat(64)}","size":2},"layers":[]}`,
);
const DIGEST = digestOf(manifest);
const PATH = `/v2/allowed/herd/manifests/${DIGEST}`;

describe('a herd of pulls of one digest never fetched before', () => {
  let upstream: FakeUpstream;
  let harness: Harness;
  let release: () => void = () => {};
  before(async () => {
    upstream = await startFakeUpstream();
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const answer = manifestAnswer(manifest, MediaType.ociManifest);
    upstream.on(PATH, async (req, res) => {
      await held; // keep the first fetch in flight until every pull has arrived
      return answer(req, res);
    });
    harness = await appFor(singleUpstream(upstream.url));
  });
  after(async () => {
    await harness.close();
    await upstream.close();
  });

  it('shares one upstream GET, and every pull gets the verified bytes', async () => {
    const pulls = Array.from({ length: 50 }, () =>
      request(harness.app)
        .get(PATH)
        .set('accept', MediaType.ociManifest)
        .then((res) => res),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const answers = await Promise.all(pulls);
    assert.deepEqual(new Set(answers.map((res) => `${res.status} ${res.headers['docker-content-digest']}`)), new Set([`200 ${DIGEST}`]));
    assert.equal(upstream.requests.filter((r) => r === `GET ${PATH}`).length, 1);
  });
});
