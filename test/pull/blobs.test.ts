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
let unlisted: Harness;
let unlistedNetwork: Harness;

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
  // The fake storage listens on loopback, a special address a redirect hop reaches only when a network lists it.
  const allowStorage = `allowedHosts: ["${storage.host}", "169.254.169.254"], allowedNetworks: ["127.0.0.1/32"]`;
  pass = await appFor(`${singleUpstream(upstream.url, `    blobRedirects: { ${allowStorage} }`)}\ngate: { blobGate: false }`);
  follow = await appFor(
    `${singleUpstream(upstream.url, `    blobRedirects: { mode: follow, ${allowStorage} }`)}\ngate: { blobGate: false }`,
  );
  unlisted = await appFor(`${singleUpstream(upstream.url)}\ngate: { blobGate: false }`);
  unlistedNetwork = await appFor(
    `${singleUpstream(upstream.url, `    blobRedirects: { allowedHosts: ["${storage.host}"] }`)}\ngate: { blobGate: false }`,
  );
});
after(async () => {
  await pass.close();
  await follow.close();
  await unlisted.close();
  await unlistedNetwork.close();
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

  it('count the bytes streamed: a whole blob adds its length to trustgate_blob_bytes_total, a range its slice', async () => {
    const counted = async (): Promise<number> => {
      const text = (await request(pass.app).get('/metrics')).text;
      return Number(/^trustgate_blob_bytes_total\{upstream="up"\} (\d+)$/m.exec(text)?.[1]);
    };
    const before = await counted();
    await request(pass.app).get(PATH).buffer(true).parse(binary).expect(200);
    assert.equal(await counted(), before + blob.length);
    await request(pass.app).get(PATH).set('range', 'bytes=10-19').buffer(true).parse(binary).expect(206);
    assert.equal(await counted(), before + blob.length + 10);
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

  it('in pass mode to a host the config does not list › 403 DENIED upstream_redirect_refused naming the host and the setting', async () => {
    const res = await request(unlisted.app).get(`/v2/allowed/redirected/blobs/${DIGEST}`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.location, undefined);
    assert.equal(ociError(res).code, 'DENIED');
    assert.equal(
      ociError(res).message,
      `upstream_redirect_refused: upstream "up" redirected to ${storage.host}, which is not an allowed storage host; to allow it, change upstreams[0].blobRedirects.allowedHosts`,
    );
  });

  it('a HEAD refused that way › 403 with no body, and a Warning carrying only the reason code and the request id', async () => {
    const res = await request(unlisted.app).head(`/v2/allowed/redirected/blobs/${DIGEST}`).set('x-request-id', 'req-42');
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-request-id'], 'req-42');
    assert.equal(res.headers.warning, '299 trustgate "upstream_redirect_refused request-id=req-42"');
  });

  it('in pass mode to a listed host on a loopback address no network lists › refused: the client is never handed it', async () => {
    const res = await request(unlistedNetwork.app).get(`/v2/allowed/redirected/blobs/${DIGEST}`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.location, undefined);
    assert.equal(
      ociError(res).message,
      `upstream_redirect_refused: upstream "up" redirected to 127.0.0.1, it resolves to a loopback address; to allow it, change upstreams[0].blobRedirects.allowedNetworks`,
    );
  });

  it('in follow mode to a listed link-local host (cloud metadata) › refused by the address policy, nothing fetched', async () => {
    const res = await request(follow.app).get(`/v2/allowed/elsewhere/blobs/${DIGEST}`);
    assert.equal(res.status, 403);
    assert.equal(ociError(res).code, 'DENIED');
    assert.equal(
      ociError(res).message,
      'upstream_redirect_refused: upstream "up" redirected to 169.254.169.254, it resolves to a link-local address; to allow it, change upstreams[0].blobRedirects.allowedNetworks',
    );
  });

  it('in pass mode to the cloud metadata address, not listed › refused, never handed to the client', async () => {
    const res = await request(unlisted.app).get(`/v2/allowed/elsewhere/blobs/${DIGEST}`);
    assert.equal(res.status, 403);
    assert.match(
      ociError(res).message,
      /^upstream_redirect_refused: upstream "up" redirected to 169\.254\.169\.254, which is not an allowed storage host/,
    );
  });
});
