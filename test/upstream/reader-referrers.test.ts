// listReferrers against a real loopback server scripted per path, and against the real Debian
// `docker-registry` (distribution 2.8, which has no referrers API, so the fallback tag is read).
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { RequestBudget } from '../../src/upstream/budget.ts';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.ts';
import { fetchSmallBlob, findManifest, listReferrers, readManifest } from '../../src/upstream/reader.ts';
import { putBlob, putManifest, sha256, startRegistry, type RunningRegistry } from '../kit/index.ts';
import { rejection } from '../support/rejection.ts';
import { upstreamConfig } from './helpers/config.ts';
import { sendJson, startServer, type FakeServer } from './helpers/fake-server.ts';

const SUBJECT = `sha256:${'5'.repeat(64)}` as Digest;
const FALLBACK = `/v2/team/app/manifests/sha256-${'5'.repeat(64)}`;
const API = `/v2/team/app/referrers/${SUBJECT}`;
const NOTATION = 'application/vnd.cncf.notary.signature';
const referrer = {
  mediaType: MediaType.ociManifest,
  digest: `sha256:${'6'.repeat(64)}`,
  size: 10,
  artifactType: NOTATION,
  annotations: { k: 'v' },
};
const index = (manifests: unknown[]) => ({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });

type Route = { status: number; body: unknown; headers?: Record<string, string> };

async function scripted(t: TestContext, routes: Record<string, Route>): Promise<{ client: UpstreamClient; server: FakeServer }> {
  const server = await startServer((req, res) => {
    const route = routes[(req.url ?? '').split('?')[0]!] ?? { status: 404, body: { errors: [{ code: 'MANIFEST_UNKNOWN' }] } };
    sendJson(res, route.status, route.body, { 'content-type': MediaType.ociIndex, ...route.headers });
  });
  t.after(() => server.close());
  const client = createUpstreamClient(upstreamConfig(server.origin, { retries: 0 }));
  t.after(() => client.close());
  return { client, server };
}

describe('listReferrers against a scripted upstream', () => {
  it('the API answers › its descriptors, whether it filtered, its Link; the artifactType query URL-encoded', async (t) => {
    const { client, server } = await scripted(t, {
      [API]: { status: 200, body: index([referrer]), headers: { 'oci-filters-applied': 'artifactType', link: '</next>; rel="next"' } },
    });
    const listing = await listReferrers(client, 'team/app', SUBJECT, { artifactType: 'application/vnd.x+json' });
    assert.deepEqual(listing, { manifests: [referrer], from: 'api', filtered: true, link: '</next>; rel="next"' });
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [`${API}?artifactType=application%2Fvnd.x%2Bjson`],
    );
  });

  it('no API (404) › the fallback tag <alg>-<hex>, one more request spent', async (t) => {
    const { client, server } = await scripted(t, { [FALLBACK]: { status: 200, body: index([referrer]) } });
    const budget = new RequestBudget(2);
    const listing = await listReferrers(client, 'team/app', SUBJECT, { budget });
    assert.deepEqual(listing, { manifests: [referrer], from: 'tag', filtered: false, link: undefined });
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [API, FALLBACK],
    );
    await rejection(listReferrers(client, 'team/app', SUBJECT, { budget })); // the budget is spent
  });

  it('no API and no tag, or a tag that is not an index › no referrers: an empty list, not an error', async (t) => {
    const none = await scripted(t, {});
    assert.deepEqual(await listReferrers(none.client, 'team/app', SUBJECT), {
      manifests: [],
      from: 'none',
      filtered: false,
      link: undefined,
    });
    const image = await scripted(t, {
      [FALLBACK]: { status: 200, body: { schemaVersion: 2 }, headers: { 'content-type': MediaType.ociManifest } },
    });
    assert.deepEqual((await listReferrers(image.client, 'team/app', SUBJECT)).from, 'none');
  });

  it('a listing with a malformed descriptor, or that is no index › UPSTREAM_BAD_RESPONSE from the one parser', async (t) => {
    for (const body of [
      index([{ ...referrer, size: undefined }]),
      index([{ ...referrer, annotations: { k: 1 } }]),
      index([{ ...referrer, digest: 'sha256:nope' }]),
      { schemaVersion: 2, mediaType: MediaType.ociManifest },
      'not json',
    ]) {
      for (const path of [API, FALLBACK]) {
        const { client } = await scripted(t, { [path]: { status: 200, body } });
        const error = await rejection(listReferrers(client, 'team/app', SUBJECT));
        assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE', `${path} ${JSON.stringify(body)}`);
        assert.equal(error.message, 'upstream "local" sent an invalid referrers index');
      }
    }
  });

  it('the fallback tag failing (5xx) fails the listing, as the API failing does', async (t) => {
    const { client } = await scripted(t, { [FALLBACK]: { status: 503, body: {} } });
    const error = await rejection(listReferrers(client, 'team/app', SUBJECT));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
  });
});

describe('the reader against a real docker-registry', () => {
  let registry: RunningRegistry;
  let client: UpstreamClient;
  let subject: { digest: Digest; size: number; bytes: Buffer };
  let signature: { digest: Digest; size: number };

  before(async () => {
    registry = await startRegistry();
    client = createUpstreamClient(upstreamConfig(registry.url, { retries: 0 }));
    const config = await putBlob(registry.url, 'team/app', Buffer.from('{}'));
    const layer = await putBlob(registry.url, 'team/app', Buffer.from('layer bytes'));
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: config.size },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
      }),
    );
    const pushed = await putManifest(registry.url, 'team/app', 'v1', bytes, MediaType.ociManifest);
    subject = { digest: pushed.digest as Digest, size: pushed.size, bytes };
    const sigBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: NOTATION,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: config.size },
        layers: [{ mediaType: 'application/jose+json', digest: layer.digest, size: layer.size }],
        subject: { mediaType: MediaType.ociManifest, digest: subject.digest, size: subject.size },
      }),
    );
    const sig = await putManifest(registry.url, 'team/app', sha256(sigBytes), sigBytes, MediaType.ociManifest);
    signature = { digest: sig.digest as Digest, size: sig.size };
    const listing = Buffer.from(JSON.stringify(index([{ mediaType: MediaType.ociManifest, ...signature, artifactType: NOTATION }])));
    await putManifest(registry.url, 'team/app', subject.digest.replace(':', '-'), listing, MediaType.ociIndex);
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('lists the referrers from the fallback tag (no referrers API on distribution 2.8)', async () => {
    const listing = await listReferrers(client, 'team/app', subject.digest);
    assert.equal(listing.from, 'tag');
    assert.deepEqual(listing.manifests, [{ mediaType: MediaType.ociManifest, ...signature, artifactType: NOTATION }]);
    assert.deepEqual(await listReferrers(client, 'team/app', signature.digest), {
      manifests: [],
      from: 'none',
      filtered: false,
      link: undefined,
    });
  });

  it('reads a manifest by tag and by digest, hashed to what the registry stored; the referrer names its subject', async () => {
    const byTag = await readManifest(client, {
      repository: 'team/app',
      reference: { kind: 'tag', tag: 'v1' },
      accept: MediaType.ociManifest,
    });
    assert.equal(byTag.digest, subject.digest);
    assert.ok(byTag.bytes.equals(subject.bytes));
    const sig = await findManifest(client, {
      repository: 'team/app',
      reference: { kind: 'digest', digest: signature.digest },
      accept: MediaType.ociManifest,
    });
    assert.equal(sig?.manifest?.subject, subject.digest);
  });

  it('maps the registry’s own 404s: MANIFEST_UNKNOWN for a tag; a blob a descriptor named but missing is a bad answer', async () => {
    const missingTag = await rejection(
      readManifest(client, { repository: 'team/app', reference: { kind: 'tag', tag: 'nope' }, accept: MediaType.ociManifest }),
    );
    assert.equal(missingTag.code, 'MANIFEST_UNKNOWN');
    assert.equal(missingTag.message, 'manifest not found on upstream "local"');
    const missingBlob = await rejection(fetchSmallBlob(client, 'team/app', `sha256:${'9'.repeat(64)}`, 10, 1_024, new RequestBudget(1)));
    assert.equal(missingBlob.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(missingBlob.message, 'upstream "local" answered 404');
  });
});
