import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { ociError } from '../support/oci-error.ts';

const SUBJECT = `sha256:${'5'.repeat(64)}`;
const NOTATION = 'application/vnd.cncf.notary.signature';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const referrers = {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [
    { mediaType: MediaType.ociManifest, digest: `sha256:${'6'.repeat(64)}`, size: 10, artifactType: NOTATION },
    { mediaType: MediaType.ociManifest, digest: `sha256:${'7'.repeat(64)}`, size: 11, artifactType: BUNDLE },
  ],
};

let upstream: FakeUpstream;
let harness: Harness;
before(async () => {
  upstream = await startFakeUpstream();
  harness = await appFor(`${singleUpstream(upstream.url)}
  - name: second
    url: ${upstream.url}/mirror
    registryHost: second.example
    repositories: ["second.example/**"]
`);
  upstream.on('/v2/allowed/app/tags/list', (req, res) => {
    const url = new URL(req.url!, upstream.url);
    if (url.searchParams.get('last') === 'b') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'allowed/app', tags: ['c'] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', link: `<${upstream.url}/v2/allowed/app/tags/list?n=2&last=b>; rel="next"` });
    res.end(JSON.stringify({ name: 'allowed/app', tags: ['a', 'b'] }));
  });
  upstream.on('/mirror/v2/team/app/tags/list', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', link: '</v2/team/app/tags/list?n=1&last=x>; rel="next"' });
    res.end(JSON.stringify({ name: 'team/app', tags: ['x'] }));
  });
  // No referrers API here: the fallback tag holds the index.
  upstream.on(`/v2/allowed/app/manifests/sha256-${'5'.repeat(64)}`, (_req, res) => {
    res.writeHead(200, { 'content-type': MediaType.ociIndex }).end(JSON.stringify(referrers));
  });
  upstream.on(`/v2/allowed/api/referrers/${SUBJECT}`, (_req, res) => {
    res.writeHead(200, { 'content-type': MediaType.ociIndex }).end(JSON.stringify(referrers));
  });
});
after(async () => {
  await harness.close();
  await upstream.close();
});

describe('tags list', () => {
  it('passes n and last through and rewrites the Link to the proxy', async () => {
    const res = await request(harness.app).get('/v2/allowed/app/tags/list?n=2');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { name: 'allowed/app', tags: ['a', 'b'] });
    assert.equal(res.headers.link, '</v2/allowed/app/tags/list?n=2&last=b>; rel="next"');
    const next = await request(harness.app).get('/v2/allowed/app/tags/list?n=2&last=b');
    assert.deepEqual(next.body.tags, ['c']);
  });

  it("keeps the client's path prefix in the Link", async () => {
    const res = await request(harness.app).get('/v2/second/team/app/tags/list?n=1');
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'second/team/app');
    assert.equal(res.headers.link, '</v2/second/team/app/tags/list?n=1&last=x>; rel="next"');
  });

  it('keeps the ns query in the Link', async () => {
    const res = await request(harness.app).get('/v2/team/app/tags/list?ns=second.example');
    assert.equal(res.headers.link, '</v2/team/app/tags/list?n=1&last=x&ns=second.example>; rel="next"');
  });

  it('refuses a non-numeric n with 400', async () => {
    const res = await request(harness.app).get('/v2/allowed/app/tags/list?n=abc');
    assert.equal(res.status, 400);
    assert.match(ociError(res).message, /"n"/);
  });
});

describe('referrers', () => {
  it('without a referrers API upstream › answers from the fallback tag', async () => {
    const res = await request(harness.app).get(`/v2/allowed/app/referrers/${SUBJECT}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], MediaType.ociIndex);
    assert.equal(res.body.manifests.length, 2);
    assert.equal(res.headers['oci-filters-applied'], undefined);
  });

  it('with artifactType › filters itself and says so', async () => {
    const res = await request(harness.app).get(`/v2/allowed/app/referrers/${SUBJECT}?artifactType=${encodeURIComponent(NOTATION)}`);
    assert.deepEqual(
      res.body.manifests.map((m: { artifactType: string }) => m.artifactType),
      [NOTATION],
    );
    assert.equal(res.headers['oci-filters-applied'], 'artifactType');
  });

  it('with a referrers API upstream › filters what the upstream did not', async () => {
    const res = await request(harness.app).get(`/v2/allowed/api/referrers/${SUBJECT}?artifactType=${encodeURIComponent(BUNDLE)}`);
    assert.deepEqual(
      res.body.manifests.map((m: { artifactType: string }) => m.artifactType),
      [BUNDLE],
    );
  });

  it('no referrers at all › an empty index, not a 404', async () => {
    const res = await request(harness.app).get(`/v2/allowed/none/referrers/${SUBJECT}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.manifests, []);
  });
});
