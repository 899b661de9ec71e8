// A refused HEAD has no body, so containerd (which resolves with HEAD) would only see 403 Forbidden:
// every HEAD refusal carries `Warning: 299 trustgate "<reason code> request-id=<id>"` (RFC 9111 §5.5),
// the reason code and the request id only. The real app over a scripted upstream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { ociError } from '../support/oci-error.ts';

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('{}')), size: 2 },
    layers: [],
  }),
);
const DIGEST = digestOf(manifest);
const BLOB = `sha256:${'c'.repeat(64)}`;
/** RFC 9111 §5.5 warning-value with warn-code 299 and a quoted text of two ASCII tokens. */
const WARNING = /^299 trustgate "([a-z_]+) request-id=([A-Za-z0-9._-]{1,64})"$/;

let upstream: FakeUpstream;
let harness: Harness;

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on('/v2/allowed/app/manifests/v1', manifestAnswer(manifest, MediaType.ociManifest));
  harness = await appFor(singleUpstream(upstream.url), {
    policy: `version: 1\nrules:\n  - { name: signed, images: ["${upstream.host}/allowed/**"] }\n`,
  });
});
after(async () => {
  await harness.close();
  await upstream.close();
});

describe('the Warning header on refused HEAD requests', () => {
  it('a manifest the gate denies › 403, no body, Warning with the reason code and the request id', async () => {
    const res = await request(harness.app).head('/v2/allowed/app/manifests/v1');
    assert.equal(res.status, 403);
    assert.equal(res.text, undefined);
    const requestId = res.headers['x-request-id'];
    assert.equal(res.headers['warning'], `299 trustgate "unsigned request-id=${requestId}"`);
    assert.match(res.headers['warning'] as string, WARNING);
  });

  it("the client's own X-Request-Id › named in the Warning, so the decision log record can be found by it", async () => {
    const res = await request(harness.app).head('/v2/allowed/app/manifests/v1').set('x-request-id', 'node-7.pull-42');
    assert.equal(res.status, 403);
    assert.equal(res.headers['warning'], '299 trustgate "unsigned request-id=node-7.pull-42"');
  });

  it('an X-Request-Id that is not a plain token › replaced, and never copied into the Warning', async () => {
    const res = await request(harness.app).head('/v2/allowed/app/manifests/v1').set('x-request-id', 'a"b c');
    assert.equal(res.status, 403);
    const [, reason, id] = WARNING.exec(res.headers['warning'] as string) ?? [];
    assert.equal(reason, 'unsigned');
    assert.equal(id, res.headers['x-request-id']);
    assert.notEqual(id, 'a"b c');
  });

  it('a repository off the allowlist › Warning with source_not_allowed, nothing sent upstream', async () => {
    const before = upstream.requests.length;
    const res = await request(harness.app).head('/v2/secret/app/manifests/v1');
    assert.equal(res.status, 403);
    assert.equal(res.headers['warning'], `299 trustgate "source_not_allowed request-id=${res.headers['x-request-id']}"`);
    assert.equal(upstream.requests.length, before);
  });

  it('a blob no allowed manifest names (containerd HEADs blobs/<digest> after a denied digest) › Warning with blob_not_referenced', async () => {
    const res = await request(harness.app).head(`/v2/allowed/app/blobs/${BLOB}`);
    assert.equal(res.status, 403);
    assert.equal(res.headers['warning'], `299 trustgate "blob_not_referenced request-id=${res.headers['x-request-id']}"`);
  });

  it('the Warning names no image, digest or host, and is ASCII: a reason code and the request id', async () => {
    const paths = {
      '/v2/allowed/app/manifests/v1': 'unsigned',
      [`/v2/allowed/app/manifests/${DIGEST}`]: 'unsigned',
      '/v2/secret/app/manifests/v1': 'source_not_allowed',
    };
    for (const [path, reason] of Object.entries(paths)) {
      const res = await request(harness.app).head(path);
      const warning = res.headers['warning'] as string;
      assert.match(warning, /^[\x20-\x7e]+$/);
      assert.equal(warning, `299 trustgate "${reason} request-id=${res.headers['x-request-id']}"`);
    }
  });

  it('GET refusals carry the reason in the OCI error body and no Warning', async () => {
    const res = await request(harness.app).get('/v2/allowed/app/manifests/v1');
    assert.equal(res.status, 403);
    const error = ociError(res);
    assert.equal(error.code, 'DENIED');
    assert.deepEqual((error.detail as { reasons: string[] }).reasons, ['unsigned']);
    assert.equal(res.headers['warning'], undefined);
  });

  it('an allowed HEAD › no Warning', async () => {
    const open = await appFor(singleUpstream(upstream.url));
    try {
      const res = await request(open.app).head('/v2/allowed/app/manifests/v1');
      assert.equal(res.status, 200);
      assert.equal(res.headers['warning'], undefined);
    } finally {
      await open.close();
    }
  });
});
