// fetchSmallBlob, the reader's whole-blob read, against real loopback servers: the registry and a
// blob storage host it redirects to.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { UpstreamConfig } from '../../src/config/types.ts';
import { Secret } from '../../src/config/secret.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { RequestBudget } from '../../src/upstream/budget.ts';
import { createUpstreamClient } from '../../src/upstream/index.ts';
import { fetchSmallBlob } from '../../src/upstream/reader.ts';
import { rejection } from '../support/rejection.ts';
import { upstreamConfig } from './helpers/config.ts';
import { startServer, type FakeServer, type Handler } from './helpers/fake-server.ts';

const BLOB = Buffer.from('{"critical":{"type":"cosign container image signature"}}');
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as Digest;

const send =
  (status: number, body: Buffer = Buffer.alloc(0), headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-length': body.length, ...headers });
    res.end(body);
  };

async function serve(t: TestContext, handler: Handler): Promise<FakeServer> {
  const server = await startServer(handler);
  t.after(() => server.close());
  return server;
}

function read(t: TestContext, config: UpstreamConfig, size = BLOB.length, budget = new RequestBudget(4)): Promise<Buffer> {
  const client = createUpstreamClient(config);
  t.after(() => client.close());
  return fetchSmallBlob(client, 'team/app', DIGEST, size, 1_024, budget);
}

describe('fetchSmallBlob', () => {
  it('reads the blob whole when its length and digest are what the descriptor says', async (t) => {
    const registry = await serve(t, send(200, BLOB));
    assert.ok((await read(t, upstreamConfig(registry.origin))).equals(BLOB));
    assert.deepEqual(
      registry.requests.map((r) => `${r.method} ${r.path}`),
      [`GET /v2/team/app/blobs/${DIGEST}`],
    );
  });

  it('a descriptor size over the cap › refused before any request', async (t) => {
    const registry = await serve(t, send(200, BLOB));
    const error = await rejection(read(t, upstreamConfig(registry.origin), 5_000));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /over the 1024-byte cap/);
    assert.equal(registry.requests.length, 0);
  });

  it('a body longer than the cap is cut off; another length or other bytes are refused', async (t) => {
    const tooLong = await serve(t, send(200, Buffer.alloc(2_000, 'a')));
    assert.equal((await rejection(read(t, upstreamConfig(tooLong.origin)))).code, 'UPSTREAM_MANIFEST_TOO_LARGE');
    const shorter = await serve(t, send(200, BLOB.subarray(1)));
    assert.match((await rejection(read(t, upstreamConfig(shorter.origin)))).message, /its descriptor says/);
    const other = await serve(t, send(200, Buffer.from(BLOB.toString().toUpperCase())));
    const error = await rejection(read(t, upstreamConfig(other.origin)));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /does not hash to its digest/);
  });

  it('a redirect to a listed storage host › followed, without the upstream’s credentials, two requests spent', async (t) => {
    const storage = await serve(t, send(200, BLOB));
    const registry = await serve(t, send(307, Buffer.alloc(0), { location: `${storage.origin}/bucket/blob` }));
    const config = upstreamConfig(registry.origin, {
      credentials: { type: 'bearer', token: new Secret('upstream-token') },
      blobRedirects: { mode: 'pass', allowedHosts: [new URL(storage.origin).host], allowedNetworks: ['127.0.0.0/8'], maxHops: 3 },
    });
    const budget = new RequestBudget(2);
    assert.ok((await read(t, config, BLOB.length, budget)).equals(BLOB));
    assert.equal(registry.requests[0]?.authorization, 'Bearer upstream-token');
    assert.deepEqual(storage.requests, [{ method: 'GET', path: '/bucket/blob', authorization: undefined }]);
    assert.throws(() => budget.spend(), /more than 2 upstream requests/);
  });

  it('a redirect to a host the config does not list › refused, that host never called', async (t) => {
    const canary = await serve(t, send(200, BLOB));
    const registry = await serve(t, send(302, Buffer.alloc(0), { location: `${canary.origin}/x` }));
    const error = await rejection(read(t, upstreamConfig(registry.origin)));
    assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED');
    assert.equal(
      error.message,
      `upstream_redirect_refused: upstream "local" redirected to ${new URL(canary.origin).host}, which is not an allowed storage host; to allow it, change upstreams[0].blobRedirects.allowedHosts`,
    );
    assert.equal(canary.requests.length, 0);
  });

  it('storage failing (5xx) fails the read as the upstream failing; storage without the blob is a bad answer', async (t) => {
    for (const [status, code] of [
      [503, 'UPSTREAM_UNREACHABLE'],
      [404, 'UPSTREAM_BAD_RESPONSE'],
      [403, 'UPSTREAM_BAD_RESPONSE'],
    ] as const) {
      const storage = await serve(t, send(status));
      const registry = await serve(t, send(307, Buffer.alloc(0), { location: `${storage.origin}/b` }));
      const config = upstreamConfig(registry.origin, {
        blobRedirects: { mode: 'pass', allowedHosts: [new URL(storage.origin).host], allowedNetworks: ['127.0.0.0/8'], maxHops: 3 },
      });
      const error = await rejection(read(t, config));
      assert.equal(error.code, code, String(status));
      assert.equal(error.message, `blob storage of upstream "local" answered ${status}`);
    }
  });
});
