import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../src/config/secret.ts';
import type { UpstreamConfig } from '../../src/config/types.ts';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.ts';
import { MANIFEST, upstreamConfig } from './helpers/config.ts';
import { sendJson, unusedPort, serverFor as server } from './helpers/fake-server.ts';
import { rejection } from '../support/rejection.ts';

function client(t: TestContext, config: UpstreamConfig, logger?: { warn(obj: object, msg?: string): void }): UpstreamClient {
  const c = createUpstreamClient(config, logger === undefined ? {} : { logger });
  t.after(() => c.close());
  return c;
}

describe('requests', () => {
  it('go to config.url plus the path, keeping a path prefix, with the caller headers', async (t) => {
    const s = await server(t, (req, res) => sendJson(res, 200, { accept: req.headers.accept }));
    const c = client(t, upstreamConfig(`${s.origin}/mirror/`));
    const res = await c.request({ ...MANIFEST, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json', Authorization: 'x' } });
    assert.equal(res.status, 200);
    assert.equal(s.requests[0]?.path, `/mirror${MANIFEST.path}`);
    assert.equal(s.requests[0]?.authorization, undefined, 'a caller-supplied Authorization is not forwarded');
    assert.deepEqual(JSON.parse(res.body.toString()), { accept: 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(res.headers['content-type'], 'application/json');
  });

  it('return HEAD responses with their headers and an empty body', async (t) => {
    const s = await server(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '12345', 'docker-content-digest': 'sha256:abc' });
      res.end();
    });
    const res = await client(t, upstreamConfig(s.origin)).request({ ...MANIFEST, method: 'HEAD', maxBytes: 10 });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['docker-content-digest'], 'sha256:abc');
  });

  it('an API redirect to a host apiRedirects does not list › refused, that host never called; `redirects: return` hands it back', async (t) => {
    const elsewhere = await server(t, (_req, res) => sendJson(res, 200, {}));
    const s = await server(t, (_req, res) => {
      res.writeHead(307, { location: `${elsewhere.origin}/blob` });
      res.end();
    });
    const error = await rejection(client(t, upstreamConfig(s.origin)).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED');
    assert.match(
      error.message,
      /which is not an allowed API redirect host; to allow it, change upstreams\[0\]\.apiRedirects\.allowedHosts$/,
    );
    const res = await client(t, upstreamConfig(s.origin)).request({ ...MANIFEST, redirects: 'return' });
    assert.equal(res.status, 307);
    assert.equal(res.headers['location'], `${elsewhere.origin}/blob`);
    assert.equal(elsewhere.requests.length, 0);
  });

  it('an API redirect to a listed host › followed with the same Accept, without the upstream’s credentials', async (t) => {
    const mirror = await server(t, (_req, res) => sendJson(res, 200, { mirrored: true }));
    const s = await server(t, (req, res) => {
      res.writeHead(308, { location: `${mirror.origin}/v2/prefix${req.url ?? ''}` });
      res.end();
    });
    const config = upstreamConfig(s.origin, {
      credentials: { type: 'bearer', token: new Secret('upstream-token') },
      apiRedirects: { allowedHosts: [new URL(mirror.origin).host] },
      blobRedirects: { mode: 'pass', allowedHosts: [], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
    });
    const res = await client(t, config).request({ ...MANIFEST, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { mirrored: true });
    assert.equal(mirror.requests.length, 1);
    assert.equal(mirror.requests[0]?.path, `/v2/prefix${MANIFEST.path}`);
    assert.equal(mirror.requests[0]?.accept, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(mirror.requests[0]?.authorization, undefined);
    assert.equal(s.requests[0]?.authorization, 'Bearer upstream-token');
  });

  it('an API redirect to a listed host on a loopback address without allowedNetworks › refused by the address policy', async (t) => {
    const mirror = await server(t, (_req, res) => sendJson(res, 200, {}));
    const s = await server(t, (_req, res) => {
      res.writeHead(307, { location: `${mirror.origin}/v2/x` });
      res.end();
    });
    const config = upstreamConfig(s.origin, { apiRedirects: { allowedHosts: [new URL(mirror.origin).host] } });
    const error = await rejection(client(t, config).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED');
    assert.equal(
      error.message,
      `upstream_redirect_refused: upstream "local" redirected to 127.0.0.1, it resolves to a loopback address; to allow it, change upstreams[0].blobRedirects.allowedNetworks`,
    );
    assert.equal(mirror.requests.length, 0);
  });

  it('refuse a path that does not start with /v2/', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 200, {}));
    const error = await rejection(client(t, upstreamConfig(s.origin)).request({ ...MANIFEST, path: '/admin' }));
    assert.equal(error.code, 'INTERNAL');
    assert.equal(s.requests.length, 0);
  });

  it('share keep-alive connections', async (t) => {
    const sockets = new Set<unknown>();
    const s = await server(t, (req, res) => {
      sockets.add(req.socket);
      sendJson(res, 200, {});
    });
    const c = client(t, upstreamConfig(s.origin));
    for (let i = 0; i < 10; i++) await c.request(MANIFEST);
    // undici's pool may open a second connection while the first is being released; never one per request.
    assert.ok(sockets.size <= 2, `${sockets.size} connections for 10 requests`);
  });
});

describe('retries', () => {
  it('retry a 503 and return the success that follows', async (t) => {
    let attempts = 0;
    const s = await server(t, (_req, res) => (++attempts < 3 ? sendJson(res, 503, {}) : sendJson(res, 200, { ok: 1 })));
    const warnings: object[] = [];
    const res = await client(t, upstreamConfig(s.origin, { retries: 2 }), { warn: (obj) => warnings.push(obj) }).request(MANIFEST);
    assert.equal(res.status, 200);
    assert.equal(attempts, 3);
    assert.deepEqual(warnings, [
      { upstream: 'local', attempt: 1, reason: 'status 503' },
      { upstream: 'local', attempt: 2, reason: 'status 503' },
    ]);
  });

  it('make no more than retries + 1 attempts, then hand back the last 5xx', async (t) => {
    for (const status of [502, 503, 504]) {
      const s = await server(t, (_req, res) => sendJson(res, status, {}));
      const res = await client(t, upstreamConfig(s.origin, { retries: 2 })).request(MANIFEST);
      assert.equal(res.status, status);
      assert.equal(s.requests.length, 3, `attempts for ${status}`);
    }
  });

  it('never retry other statuses', async (t) => {
    for (const status of [400, 404, 429, 500]) {
      const s = await server(t, (_req, res) => sendJson(res, status, {}));
      assert.equal((await client(t, upstreamConfig(s.origin)).request(MANIFEST)).status, status);
      assert.equal(s.requests.length, 1, `attempts for ${status}`);
    }
  });

  it('do not happen when retries is 0', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 503, {}));
    await client(t, upstreamConfig(s.origin, { retries: 0 })).request(MANIFEST);
    assert.equal(s.requests.length, 1);
  });

  describe('when the server resets the connection (ECONNRESET)', () => {
    it('retries and succeeds', async (t) => {
      let attempts = 0;
      const s = await server(t, (req, res) => {
        if (++attempts === 1) return void req.socket.destroy();
        sendJson(res, 200, {});
      });
      const res = await client(t, upstreamConfig(s.origin)).request(MANIFEST);
      assert.equal(res.status, 200);
      assert.equal(attempts, 2);
    });

    it('gives up with UPSTREAM_UNREACHABLE after retries + 1 attempts', async (t) => {
      const s = await server(t, (req) => void req.socket.destroy());
      const error = await rejection(client(t, upstreamConfig(s.origin, { retries: 1 })).request(MANIFEST));
      assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
      assert.match(error.message, /^upstream "local" is unreachable \(/);
      assert.equal(s.requests.length, 2);
    });
  });
});

describe('failures', () => {
  it('connection refused → UPSTREAM_UNREACHABLE naming the upstream', async (t) => {
    const port = await unusedPort();
    const error = await rejection(client(t, upstreamConfig(`http://127.0.0.1:${port}`)).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
    assert.equal(error.message, 'upstream "local" is unreachable (ECONNREFUSED)');
  });

  it('an unresolvable host → UPSTREAM_UNREACHABLE', async (t) => {
    const config = upstreamConfig('http://trustgate-test.invalid', { retries: 0 });
    const error = await rejection(client(t, config).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
    assert.match(error.message, /^upstream "local" is unreachable \((ENOTFOUND|EAI_AGAIN)\)$/);
  });

  describe('when the server is slower than headersMs', () => {
    it('fails with UPSTREAM_TIMEOUT, retrying at most once', async (t) => {
      // undici checks these timeouts on a ~1 s tick, so a 200 ms timeout fires within about a second.
      const s = await server(t, () => {}); // never answers
      const config = upstreamConfig(s.origin, {
        retries: 3,
        timeouts: { connectMs: 1_000, headersMs: 200, bodyIdleMs: 1_000 },
      });
      const error = await rejection(client(t, config).request(MANIFEST));
      assert.equal(error.code, 'UPSTREAM_TIMEOUT');
      assert.equal(error.message, 'upstream "local" did not answer within 200 ms');
      assert.equal(s.requests.length, 2);
    });
  });

  describe('when the body stalls longer than bodyIdleMs', () => {
    it('fails with UPSTREAM_TIMEOUT', async (t) => {
      const s = await server(t, (_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
      });
      const config = upstreamConfig(s.origin, {
        retries: 0,
        timeouts: { connectMs: 1_000, headersMs: 1_000, bodyIdleMs: 150 },
      });
      const error = await rejection(client(t, config).request(MANIFEST));
      assert.equal(error.code, 'UPSTREAM_TIMEOUT');
      assert.equal(error.message, 'upstream "local" sent no data for 150 ms');
    });
  });

  it('never mention the static token', async (t) => {
    const port = await unusedPort();
    const token = 'static-token-never-logged';
    const config = upstreamConfig(`http://127.0.0.1:${port}`, { credentials: { type: 'bearer', token: new Secret(token) } });
    const error = await rejection(client(t, config).request(MANIFEST));
    assert.ok(!inspect(error, { depth: 10 }).includes(token));
  });
});

describe('body size cap', () => {
  const cap = { ...MANIFEST, maxBytes: 1_000 };

  it('accepts a body of exactly maxBytes', async (t) => {
    const s = await server(t, (_req, res) => void res.end(Buffer.alloc(1_000, 'a')));
    const res = await client(t, upstreamConfig(s.origin)).request(cap);
    assert.equal(res.body.length, 1_000);
  });

  it('refuses a Content-Length over maxBytes with UPSTREAM_MANIFEST_TOO_LARGE', async (t) => {
    const s = await server(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '1001' });
      res.end(Buffer.alloc(1_001, 'a'));
    });
    const error = await rejection(client(t, upstreamConfig(s.origin)).request(cap));
    assert.equal(error.code, 'UPSTREAM_MANIFEST_TOO_LARGE');
    assert.equal(error.message, 'upstream "local" sent more than 1000 bytes');
    assert.equal(s.requests.length, 1, 'not retried');
  });

  it('refuses a chunked body (no Content-Length) once it passes maxBytes', async (t) => {
    const s = await server(t, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 5; i++) {
        res.write(Buffer.alloc(300, 'a'));
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end();
    });
    const error = await rejection(client(t, upstreamConfig(s.origin)).request(cap));
    assert.equal(error.code, 'UPSTREAM_MANIFEST_TOO_LARGE');
  });

  it('stops reading an endless chunked body instead of buffering it', async (t) => {
    let written = 0;
    let closed: () => void = () => {};
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const s = await server(t, async (_req, res) => {
      res.on('close', () => closed());
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      while (!res.destroyed && written < 512 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              res.off('drain', done).off('close', done);
              resolve();
            };
            res.on('drain', done).on('close', done);
          });
        }
      }
    });
    const error = await rejection(client(t, upstreamConfig(s.origin)).request({ ...MANIFEST, maxBytes: 100_000 }));
    assert.equal(error.code, 'UPSTREAM_MANIFEST_TOO_LARGE');
    await connectionClosed;
    assert.ok(written < 16 * 1024 * 1024, `server managed to write ${written} bytes`);
  });

  it('applies to error bodies too', async (t) => {
    const s = await server(t, (_req, res) => {
      res.writeHead(404);
      res.end(Buffer.alloc(5_000, 'a'));
    });
    const error = await rejection(client(t, upstreamConfig(s.origin)).request(cap));
    assert.equal(error.code, 'UPSTREAM_MANIFEST_TOO_LARGE');
  });
});
