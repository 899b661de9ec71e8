import assert from 'node:assert/strict';
import { before, describe, it, type TestContext } from 'node:test';
import type { ServerOptions } from 'node:https';
import type { UpstreamConfig } from '../../src/config/types.ts';
import { createUpstreamClient } from '../../src/upstream/index.ts';
import { makeTestPki, type TestPki } from './helpers/certs.ts';
import { MANIFEST, upstreamConfig } from './helpers/config.ts';
import { sendJson, startServer, type FakeServer } from './helpers/fake-server.ts';
import { rejection } from '../support/rejection.ts';

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});

/** An HTTPS registry with token auth on the same origin: 401 + Bearer challenge until `Bearer tls-token`. */
async function httpsRegistry(t: TestContext, extra: ServerOptions = {}): Promise<FakeServer> {
  const s = await startServer(
    (req, res) => {
      if (req.url?.startsWith('/token') === true) return sendJson(res, 200, { token: 'tls-token', expires_in: 300 });
      if (req.headers.authorization === 'Bearer tls-token') return sendJson(res, 200, { ok: true });
      sendJson(res, 401, {}, { 'www-authenticate': `Bearer realm="https://127.0.0.1:${s.port}/token",service="tls"` });
    },
    { cert: pki.serverCert, key: pki.serverKey, ...extra },
  );
  t.after(() => s.close());
  return s;
}

async function request(t: TestContext, config: UpstreamConfig): Promise<unknown> {
  const c = createUpstreamClient(config);
  t.after(() => c.close());
  return c.request(MANIFEST);
}

describe('an HTTPS upstream signed by a private CA', () => {
  it('works, token endpoint included, when tls.ca names that CA', async (t) => {
    const s = await httpsRegistry(t);
    const res = (await request(t, upstreamConfig(s.origin, { tls: { ca: pki.ca } }))) as { status: number };
    assert.equal(res.status, 200);
    assert.deepEqual(
      s.requests.map((r) => r.path.split('?')[0]),
      [MANIFEST.path, '/token', MANIFEST.path],
    );
  });

  it('is refused without tls.ca: UPSTREAM_UNREACHABLE with the TLS error code, not retried', async (t) => {
    const s = await httpsRegistry(t);
    const error = await rejection(request(t, upstreamConfig(s.origin, { retries: 2 })));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
    assert.match(error.message, /^upstream "local" is unreachable \(TLS: [A-Z_]+\)$/);
    assert.equal(s.requests.length, 0);
    assert.equal(s.connections(), 1, 'a certificate problem is not retried');
  });

  it('is refused when tls.ca is a different CA', async (t) => {
    const other = makeTestPki();
    const s = await httpsRegistry(t);
    const error = await rejection(request(t, upstreamConfig(s.origin, { tls: { ca: other.ca } })));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
    assert.match(error.message, /\(TLS: /);
  });

  describe('that requires a client certificate', () => {
    const mtls = (): ServerOptions => ({ ca: pki.ca, requestCert: true, rejectUnauthorized: true });

    it('works when tls.cert and tls.key are set', async (t) => {
      const s = await httpsRegistry(t, mtls());
      const config = upstreamConfig(s.origin, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
      assert.equal(((await request(t, config)) as { status: number }).status, 200);
    });

    it('fails with UPSTREAM_UNREACHABLE without them', async (t) => {
      const s = await httpsRegistry(t, mtls());
      const error = await rejection(request(t, upstreamConfig(s.origin, { tls: { ca: pki.ca }, retries: 0 })));
      assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
      assert.match(error.message, /^upstream "local" is unreachable \(/);
      assert.equal(s.requests.length, 0);
    });
  });
});
