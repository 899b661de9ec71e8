import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../src/config/secret.ts';
import type { UpstreamConfig } from '../../src/config/types.ts';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.ts';
import { MANIFEST, upstreamConfig } from './helpers/config.ts';
import { sendJson, serverFor as server } from './helpers/fake-server.ts';
import { startTokenRegistry, type TokenRegistry, type TokenRegistryOptions } from './helpers/registry.ts';
import { rejection } from '../support/rejection.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');

async function registry(t: TestContext, options?: TokenRegistryOptions): Promise<TokenRegistry> {
  const server = await startTokenRegistry(options);
  t.after(() => server.close());
  return server;
}

function client(t: TestContext, config: UpstreamConfig, now?: () => number): UpstreamClient {
  const c = createUpstreamClient(config, now === undefined ? {} : { now });
  t.after(() => c.close());
  return c;
}

function basicOf(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

describe('anonymous access to a registry that uses token auth', () => {
  it('answers the Bearer challenge with a token from the realm and retries with it', async (t) => {
    const reg = await registry(t);
    const res = await client(t, upstreamConfig(reg.origin)).request(MANIFEST);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'ok');
    const [first, token, retried] = reg.requests;
    assert.deepEqual(first, { method: 'GET', path: MANIFEST.path, authorization: undefined });
    assert.equal(token?.path, '/token?service=fake-registry&scope=repository%3Alibrary%2Fapp%3Apull');
    assert.equal(token?.authorization, undefined);
    assert.deepEqual(retried, { method: 'GET', path: MANIFEST.path, authorization: 'Bearer tok-1' });
  });

  it('uses access_token when the response has no token field', async (t) => {
    const reg = await registry(t, { tokenBody: (n) => ({ access_token: `acc-${n}`, expires_in: 300 }) });
    const res = await client(t, upstreamConfig(reg.origin)).request(MANIFEST);
    assert.equal(res.status, 200);
    assert.equal(reg.requests.at(-1)?.authorization, 'Bearer acc-1');
  });

  describe('when a second request needs the same scope', () => {
    it('reuses the cached token without calling the token endpoint or getting a 401', async (t) => {
      const reg = await registry(t);
      const c = client(t, upstreamConfig(reg.origin));
      await c.request(MANIFEST);
      const before = reg.requests.length;
      const res = await c.request(MANIFEST);
      assert.equal(res.status, 200);
      assert.equal(reg.count('/token'), 1);
      assert.equal(reg.requests.length - before, 1, 'one request, sent with the token up front');
    });

    it('fetches a token for a new scope up front, without a 401 first', async (t) => {
      const reg = await registry(t);
      const c = client(t, upstreamConfig(reg.origin));
      await c.request(MANIFEST);
      const before = reg.requests.length;
      const other = { ...MANIFEST, path: '/v2/library/other/manifests/1', scope: 'repository:library/other:pull' };
      assert.equal((await c.request(other)).status, 200);
      assert.deepEqual(
        reg.requests.slice(before).map((r) => r.path.split('?')[0]),
        ['/token', '/v2/library/other/manifests/1'],
      );
    });
  });

  describe('when the token expires', () => {
    it('fetches a new one (expires_in from the response)', async (t) => {
      let now = T0;
      const reg = await registry(t, { tokenBody: (n) => ({ token: `tok-${n}`, expires_in: 300 }) });
      const c = client(t, upstreamConfig(reg.origin), () => now);
      await c.request(MANIFEST);
      now += 200_000;
      await c.request(MANIFEST);
      assert.equal(reg.count('/token'), 1, 'still valid after 200 s');
      now += 101_000;
      await c.request(MANIFEST);
      assert.equal(reg.count('/token'), 2, 'expired after 301 s');
      assert.equal(reg.requests.at(-1)?.authorization, 'Bearer tok-2');
    });

    it('fetches a new one after 60 s when the response gives issued_at but no expires_in', async (t) => {
      let now = T0;
      const issuedAt = new Date(T0).toISOString();
      const reg = await registry(t, { tokenBody: (n) => ({ token: `tok-${n}`, issued_at: issuedAt }) });
      const c = client(t, upstreamConfig(reg.origin), () => now);
      await c.request(MANIFEST);
      now += 50_000;
      await c.request(MANIFEST);
      assert.equal(reg.count('/token'), 1);
      now += 11_000;
      await c.request(MANIFEST);
      assert.equal(reg.count('/token'), 2);
    });
  });

  describe('when ten requests arrive at once', () => {
    it('fetches one token for all of them', async (t) => {
      const reg = await registry(t, { tokenDelayMs: 50 });
      const c = client(t, upstreamConfig(reg.origin));
      const responses = await Promise.all(Array.from({ length: 10 }, () => c.request(MANIFEST)));
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(10).fill(200),
      );
      assert.equal(reg.count('/token'), 1);
    });
  });

  describe('when the registry stops accepting a cached token', () => {
    it('drops it, fetches a new one and retries once', async (t) => {
      const reg = await registry(t);
      const c = client(t, upstreamConfig(reg.origin));
      await c.request(MANIFEST);
      reg.valid.delete('tok-1');
      const res = await c.request(MANIFEST);
      assert.equal(res.status, 200);
      assert.equal(reg.requests.at(-1)?.authorization, 'Bearer tok-2');
    });
  });

  describe('when the registry answers 401 even with a fresh token', () => {
    it('returns that 401 to the caller after one retry', async (t) => {
      const reg = await registry(t);
      reg.valid.add = function (this: Set<string>) {
        return this; // the registry never accepts what it issued
      };
      const res = await client(t, upstreamConfig(reg.origin)).request(MANIFEST);
      assert.equal(res.status, 401);
      assert.match(res.headers['www-authenticate'] ?? '', /^Bearer realm=/);
      assert.equal(reg.count('/v2/'), 2);
      assert.equal(reg.count('/token'), 1);
    });
  });
});

describe('basic credentials', () => {
  const credentials = { type: 'basic', username: 'alice', password: new Secret('s3cret-pw') } as const;

  it('are sent as HTTP Basic to the token realm when the registry uses Bearer', async (t) => {
    const reg = await registry(t);
    const res = await client(t, upstreamConfig(reg.origin, { credentials })).request(MANIFEST);
    assert.equal(res.status, 200);
    const tokenRequests = reg.requests.filter((r) => r.path.startsWith('/token'));
    assert.deepEqual(
      tokenRequests.map((r) => r.authorization),
      [basicOf('alice', 's3cret-pw')],
    );
    assert.ok(
      reg.requests.filter((r) => r.path.startsWith('/v2/')).every((r) => !r.authorization?.startsWith('Basic')),
      'the registry itself never sees the password',
    );
  });

  it('answer a Basic challenge with Basic auth, then send it up front', async (t) => {
    const expected = basicOf('alice', 's3cret-pw');
    const s = await server(t, (req, res) => {
      if (req.headers.authorization === expected) return sendJson(res, 200, { ok: true });
      sendJson(res, 401, {}, { 'www-authenticate': 'Basic realm="fake"' });
    });
    const c = client(t, upstreamConfig(s.origin, { credentials }));
    assert.equal((await c.request(MANIFEST)).status, 200);
    assert.equal((await c.request(MANIFEST)).status, 200);
    assert.deepEqual(
      s.requests.map((r) => r.authorization),
      [undefined, expected, expected],
    );
  });

  it('are not invented for an anonymous upstream that gets a Basic challenge', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 401, {}, { 'www-authenticate': 'Basic realm="fake"' }));
    const res = await client(t, upstreamConfig(s.origin)).request(MANIFEST);
    assert.equal(res.status, 401);
    assert.equal(s.requests.length, 1);
  });
});

describe('a static bearer token', () => {
  it('is always sent, and a 401 is handed back without retrying', async (t) => {
    const s = await server(t, (req, res) => {
      if (req.url?.includes('denied') === true) return sendJson(res, 401, {}, { 'www-authenticate': 'Bearer realm="x"' });
      sendJson(res, 200, {});
    });
    const c = client(t, upstreamConfig(s.origin, { credentials: { type: 'bearer', token: new Secret('static-tok') } }));
    assert.equal((await c.request(MANIFEST)).status, 200);
    assert.equal((await c.request({ ...MANIFEST, path: '/v2/denied/manifests/1' })).status, 401);
    assert.deepEqual(
      s.requests.map((r) => r.authorization),
      ['Bearer static-tok', 'Bearer static-tok'],
    );
    assert.equal(await c.authorization('repository:x:pull'), 'Bearer static-tok');
  });
});

describe('the token realm rule', () => {
  it('refuses a realm on another origin that is not in tokenRealms, and never contacts it', async (t) => {
    const authServer = await registry(t);
    const reg = await registry(t, { realm: () => `${authServer.origin}/token` });
    const password = 'do-not-leak-pw';
    const config = upstreamConfig(reg.origin, {
      credentials: { type: 'basic', username: 'bob', password: new Secret(password) },
    });
    const error = await rejection(client(t, config).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /^upstream "local" /);
    assert.match(error.message, /not allowed by config/);
    assert.equal(authServer.requests.length, 0);
    assert.ok(!inspect(error, { depth: 10 }).includes(password));
  });

  it('refuses a realm that only shares the host name (different port)', async (t) => {
    const reg = await registry(t, { realm: (self) => `http://127.0.0.1:${self.port + 1}/token` });
    const error = await rejection(client(t, upstreamConfig(reg.origin)).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
  });

  it('refuses realms that are not http(s) or carry userinfo', async (t) => {
    for (const realm of ['file:///etc/passwd', 'http://user:pw@127.0.0.1:1/token', 'not a url']) {
      const reg = await registry(t, { realm: () => realm });
      const error = await rejection(client(t, upstreamConfig(reg.origin)).request(MANIFEST));
      assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE', realm);
    }
  });

  it('uses a realm on another server when it is listed in tokenRealms', async (t) => {
    const authServer = await registry(t);
    const reg = await registry(t, { realm: () => `${authServer.origin}/token` });
    reg.valid.has = (token: string) => authServer.valid.has(token);
    const config = upstreamConfig(reg.origin, { tokenRealms: [`${authServer.origin}/token`] });
    const res = await client(t, config).request(MANIFEST);
    assert.equal(res.status, 200);
    assert.equal(authServer.count('/token'), 1);
    assert.equal(reg.count('/token'), 0);
  });

  it('compares tokenRealms by origin and path, not by prefix', async (t) => {
    const authServer = await registry(t);
    const reg = await registry(t, { realm: () => `${authServer.origin}/token/evil` });
    const config = upstreamConfig(reg.origin, { tokenRealms: [`${authServer.origin}/token`] });
    const error = await rejection(client(t, config).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(authServer.requests.length, 0);
  });
});

describe('the token endpoint failing', () => {
  it('is an UPSTREAM_BAD_RESPONSE that names the upstream and never the password', async (t) => {
    const password = 'wrong-but-secret';
    const s = await server(t, (req, res) => {
      if (req.url?.startsWith('/token') === true) return sendJson(res, 401, {});
      sendJson(res, 401, {}, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${s.port}/token",service="x"` });
    });
    const config = upstreamConfig(s.origin, {
      credentials: { type: 'basic', username: 'carol', password: new Secret(password) },
    });
    const error = await rejection(client(t, config).request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /^upstream "local": the token endpoint answered 401/);
    assert.ok(!inspect(error, { depth: 10 }).includes(password));
    assert.ok(!JSON.stringify({ message: error.message, detail: error.detail }).includes(password));
  });

  it('is an UPSTREAM_BAD_RESPONSE when the response has no usable token', async (t) => {
    for (const body of [{}, { token: '' }, { token: 'has space' }, { token: 42 }]) {
      const reg = await registry(t, { tokenBody: () => body as Record<string, unknown> });
      const error = await rejection(client(t, upstreamConfig(reg.origin)).request(MANIFEST));
      assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE', JSON.stringify(body));
    }
  });
});

describe('authorization(scope)', () => {
  it('probes GET /v2/ once to learn the realm, then returns a token for the scope', async (t) => {
    const reg = await registry(t);
    const c = client(t, upstreamConfig(reg.origin));
    assert.equal(await c.authorization('repository:a:pull'), 'Bearer tok-1');
    assert.equal(await c.authorization('repository:b:pull'), 'Bearer tok-2');
    assert.equal(await c.authorization('repository:a:pull'), 'Bearer tok-1');
    assert.equal(reg.count('/v2/'), 1);
    assert.equal(reg.count('/token'), 2);
  });

  it('uses the challenge already seen by request() without probing', async (t) => {
    const reg = await registry(t);
    const c = client(t, upstreamConfig(reg.origin));
    await c.request(MANIFEST);
    assert.equal(await c.authorization(MANIFEST.scope), 'Bearer tok-1');
    assert.equal(reg.count('/v2/'), 2, 'only the two manifest requests');
  });

  it('is undefined for a registry that needs no auth, probing only once', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 200, {}));
    const c = client(t, upstreamConfig(s.origin));
    assert.equal(await c.authorization('repository:a:pull'), undefined);
    assert.equal(await c.authorization('repository:b:pull'), undefined);
    assert.equal(s.requests.length, 1);
  });

  it('is Basic after a Basic challenge when basic credentials are configured', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 401, {}, { 'www-authenticate': 'Basic realm="r"' }));
    const c = client(t, upstreamConfig(s.origin, { credentials: { type: 'basic', username: 'u', password: new Secret('p') } }));
    assert.equal(await c.authorization('repository:a:pull'), basicOf('u', 'p'));
  });

  it('fetches a new token after invalidate(scope)', async (t) => {
    const reg = await registry(t);
    const c = client(t, upstreamConfig(reg.origin));
    assert.equal(await c.authorization(MANIFEST.scope), 'Bearer tok-1');
    c.invalidate(MANIFEST.scope);
    assert.equal(await c.authorization(MANIFEST.scope), 'Bearer tok-2');
  });
});
