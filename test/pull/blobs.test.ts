import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { ociError } from '../support/oci-error.ts';
import { binary } from '../support/binary.ts';

const blob = Buffer.from('0123456789abcdefghij'.repeat(1000));
const DIGEST = digestOf(blob);
const PATH = `/v2/allowed/app/blobs/${DIGEST}`;

let upstream: FakeUpstream;
let storage: FakeUpstream;
let pass: Harness;
let follow: Harness;

function serveBlob(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (range !== null) {
    const [start, end] = [Number(range[1]), Number(range[2])];
    res.writeHead(206, {
      'content-type': 'application/octet-stream',
      'content-range': `bytes ${start}-${end}/${blob.length}`,
      'content-length': end - start + 1,
      'set-cookie': 'x=1',
    });
    res.end(blob.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': blob.length,
    'docker-content-digest': DIGEST,
    'set-cookie': 'x=1',
  });
  res.end(req.method === 'HEAD' ? undefined : blob);
}

before(async () => {
  upstream = await startFakeUpstream();
  storage = await startFakeUpstream();
  upstream.on(PATH.replace('/allowed/app', '/allowed/app'), serveBlob);
  storage.on('/bucket/blob', serveBlob);
  upstream.on(
    `/v2/allowed/redirected/blobs/${DIGEST}`,
    (_req, res) => void res.writeHead(307, { location: `${storage.url}/bucket/blob?sig=abc` }).end(),
  );
  upstream.on(
    `/v2/allowed/elsewhere/blobs/${DIGEST}`,
    (_req, res) => void res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data' }).end(),
  );
  // The blob gate has its own tests; these exercise streaming, so it is off here.
  pass = await appFor(`${singleUpstream(upstream.url)}\ngate: { blobGate: false }`);
  follow = await appFor(
    `${singleUpstream(upstream.url, `    blobRedirects: { mode: follow, allowedHosts: ["${storage.host}"] }`)}\ngate: { blobGate: false }`,
  );
});
after(async () => {
  await pass.close();
  await follow.close();
  await upstream.close();
  await storage.close();
});

describe('blob pulls', () => {
  it('stream the upstream bytes with their digest', async () => {
    const res = await request(pass.app).get(PATH).buffer(true).parse(binary);
    assert.equal(res.status, 200);
    assert.equal(digestOf(res.body as Buffer), DIGEST);
    assert.equal(res.headers['docker-content-digest'], DIGEST);
    assert.equal(res.headers['set-cookie'], undefined, 'upstream cookies stay behind');
  });

  it('pass Range through › 206 with the slice', async () => {
    const res = await request(pass.app).get(PATH).set('range', 'bytes=10-19').buffer(true).parse(binary);
    assert.equal(res.status, 206);
    assert.equal((res.body as Buffer).toString(), blob.subarray(10, 20).toString());
    assert.equal(res.headers['content-range'], `bytes 10-19/${blob.length}`);
  });

  it('HEAD › headers only', async () => {
    const res = await request(pass.app).head(PATH);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(blob.length));
  });

  it('never forward the client Authorization or cookies upstream', async () => {
    upstream.headers.length = 0;
    await request(pass.app).get(PATH).set('authorization', 'Basic Y2xpZW50OnNlY3JldA==').set('cookie', 'session=1').expect(200);
    const seen = upstream.headers.at(-1)!;
    assert.equal(seen.authorization, undefined);
    assert.equal(seen.cookie, undefined);
  });

  it('an unknown blob › 404 BLOB_UNKNOWN', async () => {
    const res = await request(pass.app).get(`/v2/allowed/app/blobs/sha256:${'9'.repeat(64)}`);
    assert.equal(res.status, 404);
    assert.equal(ociError(res).code, 'BLOB_UNKNOWN');
  });
});

describe('blob redirects', () => {
  it('in pass mode › the client gets a 307 to storage', async () => {
    const res = await request(pass.app).get(`/v2/allowed/redirected/blobs/${DIGEST}`);
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, `${storage.url}/bucket/blob?sig=abc`);
  });

  it('in follow mode to an allowed host › trustgate streams it, without Authorization', async () => {
    storage.headers.length = 0;
    const res = await request(follow.app).get(`/v2/allowed/redirected/blobs/${DIGEST}`).buffer(true).parse(binary);
    assert.equal(res.status, 200);
    assert.equal(digestOf(res.body as Buffer), DIGEST);
    assert.equal(storage.headers.at(-1)?.authorization, undefined);
  });

  it('in follow mode to a host the config does not name › 502 and nothing is fetched', async () => {
    const res = await request(follow.app).get(`/v2/allowed/elsewhere/blobs/${DIGEST}`);
    assert.equal(res.status, 502);
    assert.match(ociError(res).message, /redirected a blob to 169\.254\.169\.254/);
  });
});
