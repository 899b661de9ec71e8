import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, get } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../kit/free-port.ts';
import { spawnProxy, records, type ChildProxy } from '../support/child-proxy.ts';
import { digestOf, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

// SIGTERM while a slow blob streams: the blob finishes, /readyz says "stopping" meanwhile, the
// process exits 0; and when the grace period runs out first, the stream is cut and it exits 0.

const CHUNK = Buffer.alloc(1024, 'x');
const CHUNKS = 15; // one every 100 ms: 1.5 s per blob
const blob = Buffer.concat(Array.from({ length: CHUNKS }, () => CHUNK));
const DIGEST = digestOf(blob);

let upstream: FakeUpstream;

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on('/v2/', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  upstream.on(`/v2/slow/app/blobs/${DIGEST}`, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': DIGEST });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent === CHUNKS) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(CHUNK);
      sent += 1;
    }, 100);
  });
});
after(() => upstream.close());

function startWithGrace(graceMs: number): ChildProxy {
  return spawnProxy(`listen: { address: "127.0.0.1:0", plainHttp: true, shutdownGraceMs: ${graceMs} }
gate: { blobGate: false }
upstreams:
  - { name: up, url: "${upstream.url}", default: true, repositories: ["${upstream.host}/slow/**"], retries: 0 }`);
}

const BLOB_PATH = `/v2/slow/app/blobs/${DIGEST}`;

/** A blob GET on a keep-alive connection: resolves with the bytes, or with what came before a cut. */
function download(url: string, onFirstByte: () => void): Promise<{ bytes: Buffer; complete: boolean }> {
  const agent = new Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    get(`${url}${BLOB_PATH}`, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.once('data', onFirstByte);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ bytes: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', () => resolve({ bytes: Buffer.concat(chunks), complete: false }));
    }).on('error', reject);
  });
}

/** Raw HTTP/1.1 on one socket: a blob GET now, `/readyz` pipelined later; everything read until close. */
function pipelined(url: string): { firstByte: Promise<void>; sendReadyz(): void; all: Promise<string> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(`GET ${BLOB_PATH} HTTP/1.1\r\nhost: x\r\n\r\n`);
  let text = '';
  let gotFirst: () => void = () => {};
  const firstByte = new Promise<void>((resolve) => (gotFirst = resolve));
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    if (/\r\n\r\nx/.test(text)) gotFirst();
  });
  return {
    firstByte,
    sendReadyz: () => void socket.write('GET /readyz HTTP/1.1\r\nhost: x\r\n\r\n'),
    all: new Promise((resolve) => socket.on('close', () => resolve(text))),
  };
}

describe('graceful shutdown of a trustgate process', () => {
  it('SIGTERM during a slow blob › it finishes, /readyz is 503 "stopping" meanwhile, no new connections, exit 0', async () => {
    const proxy = startWithGrace(10_000);
    try {
      const url = await proxy.url();
      await proxy.waitFor(/"event":"started"/);
      let first: () => void = () => {};
      const streaming = new Promise<void>((resolve) => (first = resolve));
      const blobDone = download(url, first);
      const raw = pipelined(url);
      await Promise.all([streaming, raw.firstByte]);
      const signalled = performance.now();
      proxy.child.kill('SIGTERM');
      await proxy.waitFor(/"event":"stopping"/);
      raw.sendReadyz();
      await assert.rejects(fetch(`${url}/healthz`), 'no new connections once stopping');

      const got = await blobDone;
      assert.ok(got.complete, 'the blob stream completed');
      assert.equal(digestOf(got.bytes), DIGEST);
      const text = await raw.all;
      const [blobAnswer, readyz] = text.split(/(?=HTTP\/1\.1 )/);
      assert.match(blobAnswer!, /^HTTP\/1\.1 200 /);
      assert.equal(
        createHash('sha256')
          .update(Buffer.from(blobAnswer!.split('\r\n\r\n')[1]!, 'latin1'))
          .digest('hex'),
        DIGEST.slice(7),
      );
      assert.match(readyz!, /^HTTP\/1\.1 503 /);
      assert.match(readyz!, /\r\nconnection: close\r\n/i);
      assert.match(readyz!, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
      assert.ok(readyz!.endsWith('{"status":"stopping"}'));

      assert.equal(await proxy.exited, 0);
      // The drain ends with the last response, not with the keep-alive timeout (5 s) of idle connections.
      assert.ok(performance.now() - signalled < 4_000, `exited ${Math.round(performance.now() - signalled)} ms after SIGTERM`);
      const [drained] = records(proxy.out(), 'drained');
      assert.equal(drained?.['forced'], false);
    } finally {
      await proxy.kill();
    }
  });

  it('SIGTERM while still starting (Redis not there yet) › /readyz was 503 starting, exit 0 at once', async () => {
    const proxy = spawnProxy(`listen: { address: "127.0.0.1:0", plainHttp: true }
redis: { url: "redis://127.0.0.1:${await freePort()}" }
upstreams:
  - { name: up, url: "${upstream.url}", default: true, repositories: ["${upstream.host}/slow/**"] }`);
    try {
      const url = await proxy.url();
      const readyz = await fetch(`${url}/readyz`);
      assert.equal(readyz.status, 503);
      assert.deepEqual(await readyz.json(), { status: 'starting' });
      const signalled = performance.now();
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0);
      assert.ok(performance.now() - signalled < 2_000);
      assert.doesNotMatch(proxy.out(), /"event":"started"/);
    } finally {
      await proxy.kill();
    }
  });

  it('a stream longer than the grace period › cut when it ends, exit 0', async () => {
    const proxy = startWithGrace(300);
    try {
      const url = await proxy.url();
      await proxy.waitFor(/"event":"started"/);
      let first: () => void = () => {};
      const streaming = new Promise<void>((resolve) => (first = resolve));
      const blobDone = download(url, first);
      await streaming;
      proxy.child.kill('SIGTERM');
      const got = await blobDone;
      assert.equal(got.complete, false);
      assert.ok(got.bytes.length < blob.length);
      assert.equal(await proxy.exited, 0);
      const [drained] = records(proxy.out(), 'drained');
      assert.equal(drained?.['forced'], true);
    } finally {
      await proxy.kill();
    }
  });
});
