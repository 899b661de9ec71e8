// The blob proxy's keep-alive race (#15): the registry closes an idle keep-alive connection just as
// trustgate sends the next request on it. A real HTTP server plays that registry: it answers the first
// blob request of each connection and resets (RST) the connection when the next one arrives on it,
// before a byte of the answer. trustgate retries such a GET or HEAD once, and only such a one.
import assert from 'node:assert/strict';
import { get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { binary } from '../support/binary.ts';
import { digestOf, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { ociError } from '../support/oci-error.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const blob = Buffer.from('stale keep-alive sockets '.repeat(4000));
const DIGEST = digestOf(blob);
const STALE = `/v2/allowed/stale/blobs/${DIGEST}`;
const FRESH_RESET = `/v2/allowed/fresh-reset/blobs/${DIGEST}`;
const LATE_RESET = `/v2/allowed/late-reset/blobs/${DIGEST}`;

let upstream: FakeUpstream;
let harness: Harness;
let fresh: Harness;
let proxy: RunningProxy;
/** Blob requests seen per path, and per connection the number of requests it carried. */
const seen = new Map<string, number>();
const perSocket = new WeakMap<Socket, number>();

function count(req: IncomingMessage): number {
  const path = (req.url ?? '').split('?')[0]!;
  seen.set(path, (seen.get(path) ?? 0) + 1);
  const n = (perSocket.get(req.socket) ?? 0) + 1;
  perSocket.set(req.socket, n);
  return n;
}

function whole(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': DIGEST });
  res.end(req.method === 'HEAD' ? undefined : blob);
}

/** The registry closing an idle keep-alive connection: the request that reuses it is reset unanswered. */
function closesIdle(req: IncomingMessage, res: ServerResponse): void {
  if (count(req) > 1) return void req.socket.resetAndDestroy();
  whole(req, res);
}

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on(STALE, closesIdle);
  // Resets even the first request of a connection: the socket was fresh, so nothing is retried.
  upstream.on(FRESH_RESET, (req) => {
    count(req);
    req.socket.resetAndDestroy();
  });
  // Answers the headers and part of the body, then resets: never retried.
  upstream.on(LATE_RESET, (req, res) => {
    if (count(req) === 1) return whole(req, res);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
    res.write(blob.subarray(0, 1000), () => setTimeout(() => req.socket.resetAndDestroy(), 20));
  });
  const yaml = `${singleUpstream(upstream.url)}\ngate: { blobGate: false }`;
  harness = await appFor(yaml);
  fresh = await appFor(yaml); // its pool is empty: its one request goes out on a new connection
  proxy = await startProxy(yaml);
});
after(async () => {
  await harness.close();
  await fresh.close();
  await proxy.close();
  await upstream.close();
});

describe('a blob request on a reused upstream socket the registry reset', () => {
  it('GET › retried once on a new connection: 200 with the blob', async () => {
    seen.clear();
    for (let i = 0; i < 3; i++) {
      const res = await request(harness.app).get(STALE).buffer(true).parse(binary);
      assert.equal(res.status, 200, `GET ${i + 1}`);
      assert.equal(digestOf(res.body as Buffer), DIGEST);
    }
    // 1: new connection, answered; 2: reused, reset, then retried on a new one; 3: likewise.
    assert.equal(seen.get(STALE), 5);
  });

  it('HEAD › retried once: 200 with the length', async () => {
    await request(harness.app).get(STALE).buffer(true).parse(binary).expect(200);
    seen.clear();
    const res = await request(harness.app).head(STALE);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(blob.length));
    assert.equal(seen.get(STALE), 2);
  });

  it('a fresh socket reset › not retried: 502', async () => {
    seen.clear();
    const res = await request(fresh.app).get(FRESH_RESET);
    assert.equal(res.status, 502);
    assert.equal(ociError(res).code, 'UNAVAILABLE');
    assert.equal(seen.get(FRESH_RESET), 1);
  });

  it('a reset after the headers › not retried: the client stream is cut short', async () => {
    // Over a real listener, so the cut reaches the client as it would in production.
    const first = await fetchBlob(`${proxy.url}${LATE_RESET}`);
    assert.equal(first.status, 200);
    assert.equal(first.bytes, blob.length);
    seen.clear();
    const second = await fetchBlob(`${proxy.url}${LATE_RESET}`);
    assert.ok(second.bytes < blob.length, `got ${second.bytes} bytes of ${blob.length}`);
    assert.equal(seen.get(LATE_RESET), 1);
  });
});

/** GET through trustgate; how many body bytes arrived before the end or the cut. */
function fetchBlob(url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      const done = (): void => resolve({ status: res.statusCode ?? 0, bytes });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    }).on('error', reject);
  });
}
