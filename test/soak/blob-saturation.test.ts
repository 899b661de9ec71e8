// Found by the soak: with more concurrent blob pulls than an upstream's maxConcurrentRequests, the
// blob proxy filtered the upstream request's headers in http-proxy's `proxyReq` event, which fires
// only once a pooled socket is free; by then a queued request had flushed its headers, so the
// filter threw ERR_HTTP_HEADERS_SENT as an uncaught exception (fatal in `node dist/main.js`) and
// the request was never sent, hanging past every timeout. Headers are now filtered before proxying.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const BLOB = Buffer.from('a blob served slowly, so pulls queue for the two upstream sockets');
const DIGEST = `sha256:${'b'.repeat(64)}`;
const PULLS = 8;

let upstream: FakeUpstream;
let proxy: RunningProxy;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);

before(async () => {
  process.on('uncaughtException', onUncaught);
  upstream = await startFakeUpstream();
  upstream.on(`/v2/allowed/app/blobs/${DIGEST}`, (_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-length': BLOB.length, 'content-type': 'application/octet-stream' }).end(BLOB), 150);
  });
  proxy = await startProxy(
    `listen: { plainHttp: true }
upstreams:
  - name: up
    url: ${upstream.url}
    default: true
    repositories: ["${upstream.host}/allowed/**"]
    allowAnonymousPulls: true
    auth: { type: bearer, token: { env: UPSTREAM_TOKEN } }
    maxConcurrentRequests: 2
    timeouts: { connectMs: 1000, headersMs: 3000, bodyIdleMs: 3000 }
gate: { blobGate: false }
`,
    { env: { UPSTREAM_TOKEN: 'upstream-token' } },
  );
});

after(async () => {
  process.off('uncaughtException', onUncaught);
  await proxy?.close();
  await upstream?.close();
});

describe('blob pulls beyond the upstream connection cap', () => {
  it(`${PULLS} concurrent pulls through 2 upstream sockets › all served, no uncaught exception, client credentials never forwarded`, async () => {
    const answers = await Promise.all(
      Array.from({ length: PULLS }, async () => {
        const res = await request(`${proxy.url}/v2/allowed/app/blobs/${DIGEST}`, {
          headers: { authorization: 'Bearer client-token', cookie: 'session=client' },
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
      }),
    );
    assert.deepEqual(uncaught.map(String), []);
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.body.toString());
      assert.deepEqual(answer.body, BLOB);
    }
    const blobCalls = upstream.headers.filter((_h, i) => upstream.requests[i]!.includes('/blobs/'));
    assert.equal(blobCalls.length, PULLS);
    for (const headers of blobCalls) {
      assert.equal(headers.authorization, 'Bearer upstream-token');
      assert.equal(headers.cookie, undefined);
    }
  });
});
