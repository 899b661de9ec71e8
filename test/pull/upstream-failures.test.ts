import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { ociError } from '../support/oci-error.ts';

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: 'x', digest: `sha256:${'0'.repeat(64)}`, size: 1 },
    layers: [],
  }),
);
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

describe('when the upstream misbehaves', () => {
  it('is slower than the timeout › 504 naming the upstream', async () => {
    upstream.on(`${PATH}/slow`, (_req, res) => void setTimeout(() => res.end(), 3_000));
    const res = await request(harness.app).get(`${PATH}/slow`);
    assert.equal(res.status, 504);
    const error = ociError(res);
    assert.equal(error.code, 'UNAVAILABLE');
    assert.match(error.message, /upstream "up"/);
  });

  it('resets every connection › 502 after bounded retries', async () => {
    upstream.requests.length = 0;
    upstream.on(`${PATH}/reset`, (req) => void req.socket.destroy());
    const res = await request(harness.app).get(`${PATH}/reset`);
    assert.equal(res.status, 502);
    assert.match(ociError(res).message, /upstream "up" is unreachable/);
    assert.equal(upstream.requests.filter((r) => r.endsWith('/reset')).length, 2, 'retries: 1 means two attempts');
  });

  it('fails once with 503 › the retry succeeds', async () => {
    let calls = 0;
    upstream.on(`${PATH}/flaky`, (req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(503).end();
        return;
      }
      manifestAnswer(manifest, MediaType.ociManifest)(req, res);
    });
    const res = await request(harness.app).get(`${PATH}/flaky`);
    assert.equal(res.status, 200);
    assert.equal(calls, 2);
  });

  it('rate limits › 429 TOOMANYREQUESTS with Retry-After', async () => {
    upstream.on(`${PATH}/limited`, (_req, res) => void res.writeHead(429, { 'retry-after': '30' }).end());
    const res = await request(harness.app).get(`${PATH}/limited`);
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '30');
    assert.equal(ociError(res).code, 'TOOMANYREQUESTS');
  });

  it('answers 500 › 502 without echoing the upstream body', async () => {
    upstream.on(`${PATH}/boom`, (_req, res) => void res.writeHead(500).end('stack trace with secrets'));
    const res = await request(harness.app).get(`${PATH}/boom`);
    assert.equal(res.status, 502);
    assert.ok(!res.text.includes('secrets'));
  });

  it('asks for a token › trustgate follows the Bearer challenge on the same origin', async () => {
    let tokenCalls = 0;
    upstream.on('/token', (_req, res) => {
      tokenCalls += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok-123', expires_in: 300 }));
    });
    upstream.on(`${PATH}/private`, (req, res) => {
      if (req.headers.authorization !== 'Bearer tok-123') {
        res
          .writeHead(401, { 'www-authenticate': `Bearer realm="${upstream.url}/token",service="fake",scope="repository:allowed/app:pull"` })
          .end();
        return;
      }
      manifestAnswer(manifest, MediaType.ociManifest)(req, res);
    });
    assert.equal((await request(harness.app).get(`${PATH}/private`)).status, 200);
    assert.equal((await request(harness.app).get(`${PATH}/private`)).status, 200);
    assert.equal(tokenCalls, 1, 'the token is cached per scope');
  });

  it('names a token realm on another host › refused, and that host is never called', async () => {
    const other = await startFakeUpstream();
    try {
      upstream.on(`${PATH}/ssrf`, (_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${other.url}/token",service="x"` }).end();
      });
      const res = await request(harness.app).get(`${PATH}/ssrf`);
      assert.equal(res.status, 502);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.close();
    }
  });
});

describe('when the upstream is down', () => {
  it('refuses connections › 502 UNAVAILABLE naming the upstream', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const down = await appFor(`${singleUpstream(`http://127.0.0.1:${port}`)}\ngate: { blobGate: false }`);
    try {
      const res = await request(down.app).get(`${PATH}/v1`);
      assert.equal(res.status, 502);
      assert.match(ociError(res).message, /upstream "up" is unreachable/);
      const blob = await request(down.app).get(`/v2/allowed/app/blobs/sha256:${'1'.repeat(64)}`);
      assert.equal(blob.status, 502);
      assert.match(ociError(blob).message, /upstream "up" is unreachable/);
    } finally {
      await down.close();
    }
  });
});
