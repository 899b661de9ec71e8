// Attacks on upstream redirects and egress (docs/redirects.md, docs/presets.md), played by a hostile
// upstream registry, a hostile storage host, a hostile client and a careless admin. Each test states
// the attack; a test that fails names a hole (see the review report), a test that passes is a
// regression test for an attack that is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import request from 'supertest';
import fc from 'fast-check';
import type { UpstreamConfig } from '../../src/config/types.ts';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { TrustgateError } from '../../src/errors/errors.ts';
import { createUpstreamClient } from '../../src/upstream/index.ts';
import {
  connectToResolver,
  parseNetworks,
  pickAddress,
  redirectGuard,
  specialKind,
  type AddressResolver,
} from '../../src/upstream/egress.ts';
import { hostMatches, planHop } from '../../src/upstream/redirect.ts';
import { allowedRealm } from '../../src/upstream/realm.ts';
import { fileSecret } from '../../src/config/file-secret.ts';
import { fetchSmallBlob } from '../../src/upstream/fetch-blob.ts';
import { RequestBudget } from '../../src/upstream/budget.ts';
import { MANIFEST, upstreamConfig } from '../upstream/helpers/config.ts';
import { makeTestPki, type TestPki } from '../upstream/helpers/certs.ts';
import { sendJson, startServer, serverFor as server } from '../upstream/helpers/fake-server.ts';
import { rejection } from '../support/rejection.ts';
import { appFor, singleUpstream } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { capturingLogger, call } from '../support/pull-auth.ts';
import { startProxy } from '../support/proxy-server.ts';
import { binary } from '../support/binary.ts';
import { ociError } from '../support/oci-error.ts';
import { startCanary, type Canary } from './canary.ts';
import { imageManifest } from './fixtures.ts';
import { ociErrorOf } from './raw-http.ts';

async function canaryFor(t: TestContext): Promise<Canary> {
  const c = await startCanary();
  t.after(() => c.close());
  return c;
}

function client(t: TestContext, config: UpstreamConfig, resolver?: AddressResolver) {
  const c = createUpstreamClient(config, resolver === undefined ? {} : { resolver });
  t.after(() => c.close());
  return c;
}

const redirectTo =
  (location: string, status = 307) =>
  (_req: IncomingMessage, res: ServerResponse): void =>
    void res.writeHead(status, { location }).end();

const octet = fc.integer({ min: 0, max: 255 });
const hex16 = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// 1. The address policy: every address form that reaches a special network must be refused.
// ---------------------------------------------------------------------------------------------

describe('address policy: special networks written in other forms', () => {
  it('attack: IPv4 loopback/metadata in decimal, octal, hex, short and IPv6 forms in a Location › normalised by the URL parser, then refused by the address check', async (t) => {
    const canary = await canaryFor(t);
    const port = canary.port;
    // The admin listed the loopback host names; the address policy must still keep the canary out.
    const c = client(
      t,
      upstreamConfig('http://registry.test', {
        apiRedirects: { allowedHosts: ['127.0.0.1', '0.0.0.0', '[::ffff:7f00:1]', '[::]', '[::1]'] },
        blobRedirects: {
          mode: 'follow',
          allowedHosts: ['127.0.0.1', '0.0.0.0', '[::ffff:7f00:1]', '[::]', '[::1]'],
          allowedNetworks: [],
          maxHops: 3,
        },
      }),
    );
    const from = new URL('http://registry.test/v2/a/manifests/x');
    const forms: Array<[string, RegExp]> = [
      [`http://2130706433:${port}/x`, /loopback/],
      [`http://0x7f.1:${port}/x`, /loopback/],
      [`http://017700000001:${port}/x`, /loopback/],
      [`http://127.1:${port}/x`, /loopback/],
      [`http://0x7f000001:${port}/x`, /loopback/],
      [`http://%31%32%37.0.0.1:${port}/x`, /loopback/],
      [`http://\u2460\u2461\u2466.0.0.1:${port}/x`, /loopback/],
      [`http://127\u30020\u30020\u30021:${port}/x`, /loopback/],
      [`http://[::ffff:7f00:1]:${port}/x`, /IPv4-mapped/],
      [`http://[0:0:0:0:0:ffff:127.0.0.1]:${port}/x`, /IPv4-mapped/],
      [`http://[::1]:${port}/x`, /loopback/],
      [`http://[::]:${port}/x`, /unspecified/],
      [`http://0:${port}/x`, /unspecified/],
    ];
    for (const [location, why] of forms) {
      for (const kind of ['api', 'blob'] as const) {
        const error = await rejection(c.redirects.follow(location, from, { kind, method: 'GET' }));
        assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED', location);
        assert.match(error.message, why, location);
        assert.match(error.message, /blobRedirects\.allowedNetworks$/, location);
      }
      const handed = await rejection(c.redirects.forClient(location, from));
      assert.equal(handed.code, 'UPSTREAM_REDIRECT_REFUSED', location);
    }
    assert.equal(canary.connections(), 0, canary.requests.join(', '));
  });

  it('attack: a zone id on a link-local or loopback address (fe80::1%eth0) › still named link-local/loopback', () => {
    assert.equal(specialKind('fe80::1%eth0'), 'link-local');
    assert.equal(specialKind('fe80::a9fe:a9fe%1'), 'link-local');
    assert.equal(specialKind('::1%lo'), 'loopback');
    assert.notEqual(redirectGuard(parseNetworks([]))('fe80::1%eth0'), undefined);
  });

  it('attack: addresses that embed or tunnel to IPv4, and reserved IPv6/IPv4 blocks › refused like the other special ranges', () => {
    // Each of these is special-purpose (IANA registries) and never where a registry's storage lives.
    const cases = [
      '64:ff9b:1::a9fe:a9fe', // local-use NAT64 (RFC 8215): 169.254.169.254 through the site's NAT64
      '64:ff9b:1:0:0:0:a00:1', // local-use NAT64 of 10.0.0.1
      '::7f00:1', // IPv4-compatible (deprecated, ::/96)
      '::a9fe:a9fe', // IPv4-compatible metadata address
      '::ffff:0:7f00:1', // IPv4-translated (RFC 2765, ::ffff:0:0:0/96)
      '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
      '2002:7f00:1::1', // 6to4 of 127.0.0.1
      '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo
      '2001:db8::1', // documentation
      '100::1', // discard-only
      'fec0::1', // deprecated site-local
      '192.0.2.1', // TEST-NET-1
      '198.51.100.1', // TEST-NET-2
      '203.0.113.1', // TEST-NET-3
    ];
    const guard = redirectGuard(parseNetworks([]));
    const missed = cases.filter((address) => guard(address) === undefined);
    assert.deepEqual(missed, [], `not refused: ${missed.join(', ')}`);
    // Public addresses stay reachable.
    for (const address of ['8.8.8.8', '2606:4700::1111', '2a00:1450:4001:82b::200e', '151.101.1.69'])
      assert.equal(guard(address), undefined, address);
  });

  it('careless admin: allowedNetworks ["::/0"] (all of IPv6) › does not also open every IPv4 private, loopback and metadata address', () => {
    const guard = redirectGuard(parseNetworks(['::/0']));
    for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '192.168.1.1'])
      assert.notEqual(guard(address), undefined, `${address} is IPv4; an IPv6 network must not admit it`);
    assert.equal(guard('fd00::1'), undefined, 'the IPv6 networks it names are admitted');
  });

  it('careless admin on an IPv6-only cluster with DNS64: allowedNetworks ["64:ff9b::/96"] › public IPv4 storage through NAT64 passes, the metadata service and private IPv4 through NAT64 do not', () => {
    const guard = redirectGuard(parseNetworks(['64:ff9b::/96']));
    assert.equal(guard('64:ff9b::9765:145'), undefined, 'public 151.101.1.69 through NAT64'); // 151.101.1.69
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(octet, octet).map(([c, d]) => [169, 254, c, d]),
          fc.tuple(octet, octet, octet).map(([b, c, d]) => [10, b, c, d]),
          fc.tuple(octet, octet, octet).map(([b, c, d]) => [127, b, c, d]),
          fc.tuple(octet, octet).map(([c, d]) => [192, 168, c, d]),
        ),
        ([a, b, c, d]) => {
          const v6 = `64:ff9b::${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
          assert.notEqual(guard(v6), undefined, `${v6} is ${a}.${b}.${c}.${d} through NAT64`);
        },
      ),
    );
    // Listing the IPv4 network too admits it, as for a plain IPv4 address.
    assert.equal(redirectGuard(parseNetworks(['64:ff9b::/96', '10.0.0.0/8']))('64:ff9b::a00:1'), undefined);
  });

  it('careless admin: allowedNetworks ["::ffff:0:0/96"] › an IPv4-mapped address is still judged by the IPv4 address it maps', () => {
    const guard = redirectGuard(parseNetworks(['::ffff:0:0/96']));
    assert.equal(guard('::ffff:151.101.1.69'), undefined);
    for (const address of ['::ffff:169.254.169.254', '::ffff:127.0.0.1', '::ffff:10.1.2.3', '169.254.169.254', '10.1.2.3'])
      assert.notEqual(guard(address), undefined, address);
  });

  it('property: no IPv4-mapped, NAT64 (well-known or local-use) or 6to4 address embedding a loopback, private or link-local IPv4 is admitted by an empty policy', () => {
    const guard = redirectGuard(parseNetworks([]));
    fc.assert(
      fc.property(
        fc.constantFrom('::ffff:', '64:ff9b::', '64:ff9b:1::'),
        fc.tuple(octet, octet),
        fc.constantFrom(127, 10, 169),
        (prefix, [c, d], a) => {
          const b = a === 169 ? 254 : 0;
          const address = `${prefix}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
          assert.notEqual(guard(address), undefined, address);
        },
      ),
    );
    fc.assert(
      fc.property(hex16, hex16, (x, y) => {
        assert.notEqual(guard(`2002:a9fe:a9fe:${x}::${y}`), undefined);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Resolution and pinning.
// ---------------------------------------------------------------------------------------------

describe('resolution and pinned connections', () => {
  it('attack: a resolver answering with no address at all › UPSTREAM_UNREACHABLE, no crash, not retried as a connection failure', async (t) => {
    let calls = 0;
    const empty: AddressResolver = async () => {
      calls += 1;
      return [];
    };
    const direct = await rejection(
      pickAddress(
        empty,
        'cdn.example',
        443,
        redirectGuard(parseNetworks([])),
        (h, w) => new TrustgateError('UPSTREAM_REDIRECT_REFUSED', `${h} ${w}`),
      ),
    );
    assert.equal(direct.code, 'UPSTREAM_UNREACHABLE');
    calls = 0;
    const c = client(t, upstreamConfig('http://registry.test', { retries: 2 }), empty);
    const error = await rejection(c.request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
    assert.match(error.message, /registry\.test did not resolve to any address/);
    assert.equal(calls, 1, 'a TrustgateError from the connector is final, not retried');
  });

  it('attack: a storage name that rebinds from a public to a private address › a refusal thrown inside the undici connector reaches the caller intact, resolved once, never retried', async (t) => {
    const canary = await canaryFor(t);
    let calls = 0;
    const resolver: AddressResolver = async (host, port) => {
      if (host !== 'cdn.example') return [{ address: '127.0.0.1', family: 4, port }];
      calls += 1;
      return [{ address: '127.0.0.1', family: 4, port: canary.port }];
    };
    const c = client(
      t,
      upstreamConfig('http://registry.test', {
        retries: 3,
        blobRedirects: { mode: 'follow', allowedHosts: ['cdn.example'], allowedNetworks: [], maxHops: 3 },
      }),
      resolver,
    );
    const error = await rejection(
      c.redirects.follow('http://cdn.example/blob?X-Amz-Signature=SECRET', new URL('http://registry.test/v2/a/blobs/x'), {
        kind: 'blob',
        method: 'GET',
      }),
    );
    assert.ok(error instanceof TrustgateError);
    assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED');
    assert.equal(
      error.message,
      'upstream_redirect_refused: upstream "local" redirected to cdn.example, it resolves to a loopback address; to allow it, change upstreams[0].blobRedirects.allowedNetworks',
    );
    assert.doesNotMatch(JSON.stringify({ message: error.message, detail: error.detail }), /SECRET/);
    assert.equal(calls, 1);
    assert.equal(canary.connections(), 0);
  });

  it('attack: a storage name that rebinds between pulls › every new connection is resolved and checked again; nothing reaches the rebound address', async (t) => {
    const storage = await server(t, (_req, res) => sendJson(res, 200, { from: 'storage' }));
    let calls = 0;
    const resolver: AddressResolver = async (host, port) => {
      if (host !== 'cdn.example') return [{ address: '127.0.0.1', family: 4, port }];
      calls += 1;
      // First answer: the storage (a listed network); every later one: a private address no network lists.
      return calls === 1 ? [{ address: '127.0.0.1', family: 4, port: storage.port }] : [{ address: '10.255.255.1', family: 4, port: 9 }];
    };
    const c = client(
      t,
      upstreamConfig('http://registry.test', {
        blobRedirects: { mode: 'follow', allowedHosts: ['cdn.example'], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
      }),
      resolver,
    );
    const from = new URL('http://registry.test/v2/a/blobs/x');
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        const answer = await c.redirects.follow('http://cdn.example/blob', from, { kind: 'blob', method: 'GET' });
        outcomes.push(`${answer.status} ${await answer.body.text()}`);
      } catch (error) {
        // A pooled connection is reused as is (it went to the checked address); a new one is checked and refused.
        assert.ok(error instanceof TrustgateError, String(error));
        assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED');
        assert.match(error.message, /it resolves to a private address/);
        outcomes.push('refused');
      }
    }
    assert.equal(outcomes[0], '200 {"from":"storage"}');
    for (const outcome of outcomes) assert.ok(outcome === '200 {"from":"storage"}' || outcome === 'refused', outcome);
    assert.equal(storage.requests.length, outcomes.filter((o) => o !== 'refused').length);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. TLS on pinned connections: the certificate is checked against the host name, not the address.
// ---------------------------------------------------------------------------------------------

describe('TLS on pinned connections', () => {
  let pki: TestPki;
  before(() => {
    pki = makeTestPki(); // a server certificate for localhost / 127.0.0.1 only
  });

  it('attack: registry.test mapped to a server whose certificate names only localhost › refused (the check uses the name asked for); localhost itself works', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 200, { ok: true }), { cert: pki.serverCert, key: pki.serverKey });
    const resolver = connectToResolver({ 'registry.test:443': `127.0.0.1:${s.port}`, 'localhost:443': `127.0.0.1:${s.port}` });
    const bad = client(t, upstreamConfig('https://registry.test', { tls: { ca: pki.ca }, retries: 2 }), resolver);
    const error = await rejection(bad.request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_UNREACHABLE');
    assert.match(error.message, /TLS: ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.equal(s.requests.length, 0);
    const good = client(t, upstreamConfig('https://localhost', { tls: { ca: pki.ca } }), resolver);
    assert.equal((await good.request(MANIFEST)).status, 200);
  });

  it('attack: a redirect hop to storage.test mapped to that same server › refused by the certificate check on the foreign agent too', async (t) => {
    const s = await server(t, (_req, res) => sendJson(res, 200, { ok: true }), { cert: pki.serverCert, key: pki.serverKey });
    const resolver = connectToResolver({ 'storage.test:443': `127.0.0.1:${s.port}`, 'localhost:8443': `127.0.0.1:${s.port}` });
    const c = client(
      t,
      upstreamConfig('https://registry.test', {
        tls: { ca: pki.ca },
        blobRedirects: { mode: 'follow', allowedHosts: ['storage.test', 'localhost'], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
      }),
      resolver,
    );
    const from = new URL('https://registry.test/v2/a/blobs/x');
    await assert.rejects(
      c.redirects.follow('https://storage.test/blob', from, { kind: 'blob', method: 'GET' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
        return true;
      },
    );
    assert.equal(s.requests.length, 0);
    const ok = await c.redirects.follow('https://localhost:8443/blob', from, { kind: 'blob', method: 'GET' });
    assert.equal(ok.status, 200);
    await ok.body.text();
  });

  it('attack: the blob proxy (node https agent) to registry.test mapped to a localhost-only certificate › refused; to localhost › streamed', async (t) => {
    const blob = Buffer.from('tls blob');
    const digest = digestOf(blob);
    const s = await server(t, (_req, res) => void res.writeHead(200, { 'content-length': blob.length }).end(blob), {
      cert: pki.serverCert,
      key: pki.serverKey,
    });
    const dir = mkdtempSync(join(tmpdir(), 'redirect-attack-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    const resolver = connectToResolver({ 'registry.test:443': `127.0.0.1:${s.port}`, 'localhost:443': `127.0.0.1:${s.port}` });
    for (const [url, status] of [
      ['https://registry.test', 502],
      ['https://localhost', 200],
    ] as const) {
      const h = await appFor(`${singleUpstream(url, `    tls: { caFile: ${join(dir, 'ca.pem')} }`)}\ngate: { blobGate: false }`, {
        resolver,
      });
      t.after(() => h.close());
      const before = s.requests.length;
      const res = await request(h.app).get(`/v2/allowed/app/blobs/${digest}`).buffer(true).parse(binary);
      assert.equal(res.status, status, url);
      if (status === 200) assert.equal((res.body as Buffer).toString(), 'tls blob');
      else assert.equal(s.requests.length, before, 'no request on a connection whose certificate does not name the host');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Host, origin and scheme tricks in a Location.
// ---------------------------------------------------------------------------------------------

describe('host and origin tricks', () => {
  const quay = (overrides: Partial<UpstreamConfig> = {}): UpstreamConfig =>
    upstreamConfig('https://quay.io', {
      blobRedirects: { mode: 'follow', allowedHosts: ['cdn.quay.io', '*-docker.pkg.dev'], allowedNetworks: [], maxHops: 3 },
      ...overrides,
    });
  const from = new URL('https://quay.io/v2/a/blobs/x');
  const plan = (location: string, config = quay()) => {
    try {
      return planHop(config, location, from, 'blob');
    } catch (error) {
      return error as TrustgateError;
    }
  };

  it('attack: trailing dot, look-alike (IDNA), userinfo, backslash and suffix tricks › refused; uppercase and full-width forms normalise to the listed name', () => {
    const refused = [
      'https://cdn.quay.io./x', // trailing dot: another name as far as the list goes (fails closed)
      'https://cdn.qu\u0430y.io/x', // Cyrillic "a": xn--
      'https://cdn.quay.io.evil.example/x',
      'https://evil.example\\@cdn.quay.io/x', // the backslash ends the authority: host evil.example
      'https://cdn.quay.io@evil.example/x',
      'https://cdn.quay.io:443@evil.example/x',
      '//evil.example/x',
      '/\\evil.example/x',
      '\\\\evil.example\\x',
      'https:\\\\evil.example/x', // same scheme, two backslashes: an authority after all
      'https://evil-docker.pkg.dev.evil.example/x',
      'https://a.b-docker.pkg.dev/x',
      'https://docker.pkg.dev/x',
      'https://us_west-docker.pkg.dev/x',
    ];
    for (const location of refused) {
      const hop = plan(location);
      assert.ok(hop instanceof TrustgateError, `${location} was allowed: ${'url' in hop ? hop.url.href : ''}`);
      assert.equal(hop.code, 'UPSTREAM_REDIRECT_REFUSED', location);
    }
    for (const [location, host] of [
      ['https://CDN.QUAY.IO/x', 'cdn.quay.io'],
      ['https://\uff43\uff44\uff4e.quay.io/x', 'cdn.quay.io'],
      ['https://cdn.quay.io\\@evil.example/x', 'cdn.quay.io'], // means cdn.quay.io, path /@evil.example/x
      ['https://us-west1-docker.pkg.dev/x', 'us-west1-docker.pkg.dev'],
    ] as const) {
      const hop = plan(location);
      assert.ok(!(hop instanceof TrustgateError), `${location}: ${(hop as Error).message}`);
      assert.equal(hop.url.hostname, host);
      assert.equal(hop.sameOrigin, false);
    }
  });

  it('attack: relative Locations that try to climb out of the origin › stay on the upstream origin', () => {
    for (const location of [
      '../../../../x',
      '/v2/../../x',
      '%2e%2e/%2e%2e/x',
      '?sig=1',
      '#frag',
      '.././//x',
      'https:evil.example/x',
      'https:/evil.example/x',
    ]) {
      const hop = plan(location);
      assert.ok(!(hop instanceof TrustgateError), location);
      assert.equal(hop.url.origin, 'https://quay.io', location);
      assert.equal(hop.sameOrigin, true);
    }
  });

  it('attack: the upstream host on another port or scheme › not its own origin: refused unless listed, never downgraded, never given Authorization', () => {
    const other = plan('https://quay.io:6379/x');
    assert.ok(other instanceof TrustgateError);
    assert.match(other.message, /redirected to quay\.io:6379, which is not an allowed storage host/);
    const down = plan('http://quay.io/x');
    assert.ok(down instanceof TrustgateError);
    assert.match(down.message, /over plain http from an https upstream/);
    // Listed by name without a port: any port of that host, but still a foreign hop (no credentials, address policy).
    const listed = plan(
      'https://quay.io:8443/x',
      quay({ blobRedirects: { mode: 'follow', allowedHosts: ['quay.io'], allowedNetworks: [], maxHops: 3 } }),
    );
    assert.ok(!(listed instanceof TrustgateError));
    assert.equal(listed.sameOrigin, false);
    for (const scheme of [
      'file:///etc/passwd',
      'gopher://quay.io/x',
      'ftp://cdn.quay.io/x',
      'data:text/plain,x',
      'javascript:alert(1)',
      'ws://cdn.quay.io/x',
    ]) {
      const hop = plan(scheme);
      assert.ok(hop instanceof TrustgateError, scheme);
    }
  });

  it('attack: a huge Location (7 kB host, signed query) › refused; the message names the host only, never the path or query', () => {
    const host = `${`${'a'.repeat(60)}.`.repeat(120)}evil.example`;
    const hop = plan(`https://${host}/bucket/key?X-Amz-Signature=SECRET`);
    assert.ok(hop instanceof TrustgateError);
    assert.equal(
      hop.message,
      `upstream_redirect_refused: upstream "local" redirected to ${host}, which is not an allowed storage host; to allow it, change upstreams[0].blobRedirects.allowedHosts`,
    );
    assert.deepEqual(hop.detail, { reason: 'upstream_redirect_refused', host, setting: 'upstreams[0].blobRedirects.allowedHosts' });
  });

  it('admin patterns: "*" never spans a dot, the last two labels are literal, ports only when written', () => {
    const cases: Array<[string, string, boolean]> = [
      ['*-docker.pkg.dev', 'https://us.evil-docker.pkg.dev/', false],
      ['*-docker.pkg.dev', 'https://-docker.pkg.dev/', false],
      ['*-docker.pkg.dev', 'https://us-docker.pkg.dev./', false],
      ['*.blob.core.windows.net', 'https://blob.core.windows.net/', false],
      ['cdn.quay.io:8443', 'https://cdn.quay.io/', false],
      ['[::1]:443', 'https://[::1]/', true],
      ['[::1]', 'https://[::1]:6379/', true],
    ];
    for (const [pattern, url, want] of cases) assert.equal(hostMatches(pattern, new URL(url)), want, `${pattern} ${url}`);
    // The schema is where "last two labels literal" is enforced.
    for (const pattern of ['*.com', '*.*', 'cdn.*', 'cdn.*.io', '*', '**.quay.io', 'a.*']) {
      assert.throws(
        () =>
          parseConfig(
            `listen: { plainHttp: true }\nupstreams:\n  - name: up\n    url: https://quay.io\n    repositories: ["quay.io/x"]\n    blobRedirects: { allowedHosts: ["${pattern}"] }\n`,
            't.yaml',
          ),
        ConfigError,
        pattern,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Hops, methods and credentials.
// ---------------------------------------------------------------------------------------------

describe('hops and credentials', () => {
  it('attack: a redirect loop on the upstream own origin › bounded by maxHops like any other', async (t) => {
    const s = await server(t, (req, res) => void res.writeHead(302, { location: `${req.url}x` }).end());
    const c = client(t, upstreamConfig(s.origin, { blobRedirects: { mode: 'follow', allowedHosts: [], allowedNetworks: [], maxHops: 2 } }));
    const error = await rejection(c.request(MANIFEST));
    assert.match(error.message, /which redirected again after 2 hops; to allow it, change upstreams\[0\]\.blobRedirects\.maxHops$/);
    assert.equal(s.requests.length, 3); // the first answer + 2 hops
  });

  it('attack: 303 after a HEAD, and 30x without a Location › the method is kept (never a body-carrying method), a bare 30x is an answer, not a hop', async (t) => {
    const methods: string[] = [];
    const storage = await server(t, (req, res) => {
      methods.push(`${req.method} ${req.url}`);
      if (req.url === '/a') return void res.writeHead(303, { location: '/b' }).end();
      if (req.url === '/b') return void res.writeHead(302).end();
      res.end();
    });
    const c = client(
      t,
      upstreamConfig('http://registry.test', {
        blobRedirects: { mode: 'follow', allowedHosts: ['127.0.0.1'], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
      }),
    );
    const answer = await c.redirects.follow(`${storage.origin}/a`, new URL('http://registry.test/v2/a/blobs/x'), {
      kind: 'blob',
      method: 'HEAD',
    });
    assert.equal(answer.status, 302);
    assert.deepEqual(methods, ['HEAD /a', 'HEAD /b']);
  });

  it('attack (hostile storage): listed storage redirecting to another loopback address (127.0.0.2) › the second hop is checked on its own and refused', async (t) => {
    // Something listening on 127.0.0.2, which the admin's 127.0.0.1/32 does not cover.
    let hits = 0;
    const inner = createServer((_req, res) => {
      hits += 1;
      res.end('internal');
    });
    await new Promise<void>((resolve) => inner.listen(0, '127.0.0.2', resolve));
    t.after(() => new Promise<void>((resolve) => inner.close(() => resolve())));
    const innerPort = (inner.address() as AddressInfo).port;
    const storage = await server(t, redirectTo(`http://127.0.0.2:${innerPort}/admin`));
    const c = client(
      t,
      upstreamConfig('http://registry.test', {
        blobRedirects: { mode: 'follow', allowedHosts: ['127.0.0.1', '127.0.0.2'], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
      }),
    );
    const error = await rejection(
      c.redirects.follow(`${storage.origin}/blob`, new URL('http://registry.test/v2/a/blobs/x'), { kind: 'blob', method: 'GET' }),
    );
    assert.match(
      error.message,
      /redirected to 127\.0\.0\.2, it resolves to a loopback address; to allow it, change upstreams\[0\]\.blobRedirects\.allowedNetworks$/,
    );
    assert.equal(storage.requests.length, 1);
    assert.equal(hits, 0);
  });

  it('attack: storage bouncing back to the upstream, to the same server under another name, and to a second storage host › Authorization only on the upstream origin', async (t) => {
    const seen: Array<[string, string | undefined]> = [];
    let upstreamOrigin = '';
    const s = await server(t, (req, res) => {
      seen.push([`${req.headers.host} ${req.url}`, req.headers.authorization]);
      if (req.url === '/storage') return void res.writeHead(307, { location: `${upstreamOrigin}/back` }).end();
      if (req.url === '/back') return void res.writeHead(307, { location: `http://localhost:${new URL(upstreamOrigin).port}/alias` }).end();
      res.end('ok');
    });
    upstreamOrigin = s.origin; // http://127.0.0.1:<port>
    const c = client(
      t,
      upstreamConfig(s.origin, {
        blobRedirects: {
          mode: 'follow',
          allowedHosts: ['localhost', 'storage.test'],
          allowedNetworks: ['127.0.0.1/32', '::1/128'],
          maxHops: 5,
        },
      }),
      connectToResolver({ [`storage.test:${s.port}`]: `127.0.0.1:${s.port}`, [`localhost:${s.port}`]: `127.0.0.1:${s.port}` }),
    );
    const answer = await c.redirects.follow(`http://storage.test:${s.port}/storage`, new URL(`${s.origin}/v2/a/blobs/x`), {
      kind: 'blob',
      method: 'GET',
      authorization: 'Bearer upstream-only',
      headers: { range: 'bytes=0-1' },
    });
    assert.equal(await answer.body.text(), 'ok');
    assert.deepEqual(seen, [
      [`storage.test:${s.port} /storage`, undefined],
      [`127.0.0.1:${s.port} /back`, 'Bearer upstream-only'],
      [`localhost:${s.port} /alias`, undefined], // same server, same pooled address: another origin all the same
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Through the app: leaks, error mapping, rate limits.
// ---------------------------------------------------------------------------------------------

const blob = Buffer.from('0123456789'.repeat(100));
const BLOB = digestOf(blob);

describe('through the proxy', () => {
  let registry: FakeUpstream;
  let storage: FakeUpstream;
  let mirror: FakeUpstream;
  let canary: Canary;
  let deadPort = 0;
  const image = imageManifest('limited');
  let mirrorCalls = 0;

  before(async () => {
    [registry, storage, mirror] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]);
    canary = await startCanary();
    const dead = await startServer(() => {});
    deadPort = dead.port;
    await dead.close();
    const at = (path: string, location: string) => registry.on(`/v2/allowed/${path}/blobs/${BLOB}`, redirectTo(location));
    at('signed-query', `http://evil.example/bucket?X-Amz-Signature=SECRET-SIG&X-Amz-Credential=AKIASECRET`);
    at('dead-storage', `http://127.0.0.1:${deadPort}/bucket?X-Amz-Signature=SECRET-SIG`);
    at('cut-storage', `${storage.url}/cut?X-Amz-Signature=SECRET-SIG`);
    at('limited-storage', `${storage.url}/limited?X-Amz-Signature=SECRET-SIG`);
    at('odd-limit', `${storage.url}/odd-limit`);
    at('ok-storage', `${storage.url}/ok?X-Amz-Signature=SECRET-SIG`);
    registry.on(`/v2/allowed/limited/blobs/${BLOB}`, (_req, res) => void res.writeHead(429, { 'retry-after': '17' }).end());
    storage.on(
      '/ok',
      (req, res) => void res.writeHead(200, { 'content-length': blob.length }).end(req.method === 'HEAD' ? undefined : blob),
    );
    storage.on('/cut', (_req, res) => {
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 10));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    storage.on('/limited', (_req, res) => void res.writeHead(429, { 'retry-after': 'Wed, 21 Oct 2037 07:28:00 GMT' }).end());
    storage.on('/odd-limit', (_req, res) => void res.writeHead(429, { 'retry-after': '<script>1</script>' }).end());
    registry.on('/v2/allowed/mirrored/manifests/v1', redirectTo(`${mirror.url}/v2/allowed/mirrored/manifests/v1`));
    mirror.on('/v2/allowed/mirrored/manifests/v1', (req, res) => {
      mirrorCalls += 1;
      if (mirrorCalls === 1) return void res.writeHead(429, { 'retry-after': '5' }).end();
      manifestAnswer(image.bytes, image.mediaType)(req, res);
    });
  });
  after(async () => {
    await Promise.all([registry.close(), storage.close(), mirror.close(), canary.close()]);
  });

  const yaml = (extra: string) =>
    `${singleUpstream(registry.url, `    retries: 0\n    blobRedirects: { mode: follow, allowedHosts: ["${storage.host}", "127.0.0.1:${deadPort}"], allowedNetworks: ["127.0.0.1/32"] }\n    apiRedirects: { allowedHosts: ["${mirror.host}"] }\n${extra}`).replace('    retries: 1\n', '')}\ngate: { blobGate: false }`;

  it('attack: refusals, dead and cut-off storage › no signed query or storage credential in answers, logs or metrics; errors are upstream errors, never 500', async (t) => {
    const logger = capturingLogger();
    const proxy = await startProxy(yaml(''), {}, logger);
    t.after(() => proxy.close());
    const results: Record<string, number> = {};
    for (const path of ['signed-query', 'dead-storage', 'cut-storage']) {
      const res = await call(`${proxy.url}/v2/allowed/${path}/blobs/${BLOB}`).catch((error: Error) => ({
        status: -1,
        text: error.message,
        headers: {},
      }));
      results[path] = res.status;
      assert.doesNotMatch(res.text, /SECRET/, path);
      if (res.status > 0 && res.text !== '' && res.status !== 200) assert.doesNotMatch(ociErrorOf(res.text).message, /bucket|X-Amz/, path);
    }
    const metrics = await call(`${proxy.url}/metrics`);
    assert.doesNotMatch(metrics.text, /SECRET|evil\.example|X-Amz/);
    assert.match(metrics.text, /trustgate_upstream_errors_total\{[^}]*kind="redirect_refused"[^}]*\} [1-9]/);
    for (const line of logger.lines) assert.doesNotMatch(line, /SECRET|AKIA/, line);
    assert.equal(results['signed-query'], 403);
    // Storage that refuses connections is the upstream failing (502), like every other upstream failure.
    assert.equal(results['dead-storage'], 502, 'storage that refuses connections › 502 UNAVAILABLE, not 500 INTERNAL');
  });

  it('attack: 429 from the registry, from storage (HTTP date), with a hostile Retry-After, and from an API mirror › 429 with a clean Retry-After; the next pull is judged afresh', async (t) => {
    const h = await appFor(yaml(''));
    t.after(() => h.close());
    const first = await request(h.app).get(`/v2/allowed/limited/blobs/${BLOB}`);
    assert.equal(first.status, 429);
    assert.equal(ociError(first).code, 'TOOMANYREQUESTS');
    assert.equal(first.headers['retry-after'], '17');
    const stored = await request(h.app).get(`/v2/allowed/limited-storage/blobs/${BLOB}`);
    assert.equal(stored.status, 429);
    assert.equal(stored.headers['retry-after'], 'Wed, 21 Oct 2037 07:28:00 GMT');
    const odd = await request(h.app).get(`/v2/allowed/odd-limit/blobs/${BLOB}`);
    assert.equal(odd.status, 429);
    assert.equal(odd.headers['retry-after'], undefined);
    assert.doesNotMatch(odd.text, /script/);
    const limited = await request(h.app).get('/v2/allowed/mirrored/manifests/v1');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '5');
    const again = await request(h.app).get('/v2/allowed/mirrored/manifests/v1');
    assert.equal(again.status, 200);
    assert.equal(again.headers['docker-content-digest'], image.digest);
  });

  it('attack (hostile client): headers on a followed blob › only Range reaches storage; no cookie, no client Authorization, no X-Forwarded-*', async (t) => {
    const h = await appFor(yaml(''));
    t.after(() => h.close());
    const before = storage.headers.length;
    const res = await request(h.app)
      .get(`/v2/allowed/ok-storage/blobs/${BLOB}`)
      .set('authorization', 'Basic Y2xpZW50OnNlY3JldA==')
      .set('cookie', 'session=1')
      .set('x-forwarded-for', '10.0.0.1')
      .set('if-range', '"etag"')
      .set('range', 'bytes=0-9')
      .set('user-agent', 'hostile/1.0');
    assert.ok(res.status === 200 || res.status === 206, String(res.status));
    const seen = storage.headers.slice(before);
    assert.equal(seen.length, 1);
    const names = Object.keys(seen[0]!).filter((n) => !['host', 'connection', 'user-agent'].includes(n));
    assert.deepEqual(names, ['range']);
    assert.equal(seen[0]!['user-agent'], 'trustgate');
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Timeouts a hostile storage host or mirror could stretch.
// ---------------------------------------------------------------------------------------------

/** Writes `bytes` one byte every `everyMs`, each gap under bodyIdleMs, so only a whole-answer deadline stops it. */
function trickle(res: ServerResponse, bytes: Buffer, everyMs: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(200, { 'content-length': bytes.length, ...headers });
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed || i >= bytes.length) return void clearInterval(timer);
    res.write(bytes.subarray(i, ++i));
    if (i === bytes.length) res.end();
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

/** Settles with how long `promise` took, or 'hung' after `limitMs`. */
async function timed(promise: Promise<unknown>, limitMs: number): Promise<number | 'hung'> {
  const started = performance.now();
  return Promise.race([
    promise.then(
      () => performance.now() - started,
      () => performance.now() - started,
    ),
    sleep(limitMs).then(() => 'hung' as const),
  ]);
}

describe('timeouts on redirected answers', () => {
  it('attack (hostile API mirror): a redirected manifest trickled a byte at a time › cut off by headersMs + bodyIdleMs like a direct answer', async (t) => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, padding: 'x'.repeat(40) }));
    const mirror = await server(t, (_req: IncomingMessage, res: ServerResponse) =>
      trickle(res, manifest, 150, { 'content-type': 'application/json' }),
    );
    const registry = await server(t, redirectTo(`${mirror.origin}/v2/library/app/manifests/latest`));
    const timeouts = { connectMs: 500, headersMs: 400, bodyIdleMs: 400 };
    const direct = client(t, upstreamConfig(mirror.origin, { timeouts, retries: 0 }));
    const directMs = await timed(direct.request(MANIFEST), 4_000);
    assert.ok(directMs !== 'hung' && directMs < 2_500, `direct: ${directMs}`);
    const c = client(
      t,
      upstreamConfig(registry.origin, {
        timeouts,
        retries: 0,
        apiRedirects: { allowedHosts: [new URL(mirror.origin).host] },
        blobRedirects: { mode: 'pass', allowedHosts: [], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
      }),
    );
    const pending = c.request(MANIFEST);
    const redirectedMs = await timed(pending, 4_000);
    assert.ok(
      redirectedMs !== 'hung' && redirectedMs < 2_500,
      `through an API redirect: ${redirectedMs} ms (the direct answer was cut at ${Math.round(directMs)} ms)`,
    );
    const error = await rejection(pending);
    assert.equal(error.code, 'UPSTREAM_TIMEOUT');
    assert.equal(error.message, 'upstream "local" did not send its whole redirected answer within 800 ms');
  });

  it('attack (hostile storage): slow redirect hops, then a trickled signature blob › the whole read still ends by headersMs + bodyIdleMs + 1 s', async (t) => {
    const payload = Buffer.from('{"critical":{"identity":{}}}'.padEnd(60, ' '));
    const digest = digestOf(payload) as `sha256:${string}`;
    // Each hop answers in 650 ms (under headersMs); five of them outlast the 2800 ms deadline, and
    // the body then comes a byte every 100 ms (under bodyIdleMs): 6 s more.
    const storage = await server(t, async (req, res) => {
      const n = Number(/\/hop(\d)/.exec(req.url ?? '')?.[1] ?? 0);
      await sleep(650);
      if (n < 5) return void res.writeHead(307, { location: `/hop${n + 1}` }).end();
      trickle(res, payload, 100);
    });
    const registry = await server(t, redirectTo(`${storage.origin}/hop1`));
    const config = upstreamConfig(registry.origin, {
      timeouts: { connectMs: 500, headersMs: 900, bodyIdleMs: 900 },
      retries: 0,
      blobRedirects: { mode: 'pass', allowedHosts: [new URL(storage.origin).host], allowedNetworks: ['127.0.0.1/32'], maxHops: 5 },
    });
    const c = client(t, config);
    const pending = fetchSmallBlob(c, 'library/app', digest, payload.length, 1024, new RequestBudget(4));
    const ms = await timed(pending, 5_000);
    assert.ok(
      ms !== 'hung' && ms < 4_500,
      `the signature blob read took ${ms === 'hung' ? 'over 5000' : Math.round(ms)} ms; its deadline is 2800 ms`,
    );
    assert.equal((await rejection(pending)).code, 'UPSTREAM_TIMEOUT');
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Presets and realms (careless admin, hostile registry).
// ---------------------------------------------------------------------------------------------

describe('presets and token realms', () => {
  const parse = (lines: string) =>
    parseConfig(`listen: { plainHttp: true }\nupstreams:\n  - name: up\n${lines}`, 'test.yaml').upstreams[0]!;
  const refusedField = (lines: string): string => {
    try {
      parse(lines);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return 'accepted';
  };

  it('careless admin: a preset URL that only looks like the registry › refused at start naming upstreams[0].url', () => {
    for (const url of [
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com.',
      'https://evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'https://evil.example?x=.dkr.ecr.us-east-1.amazonaws.com',
      'https://1234567890123.dkr.ecr.us-east-1.amazonaws.com',
      'https://123456789012.dkr.ecr.us-east-1.evil.amazonaws.com',
    ]) {
      const message = refusedField(`    preset: ecr\n    url: ${url}\n    repositories: ["x/**"]\n`);
      assert.match(message, /upstreams\[0\]\.url/, url);
    }
  });

  it('careless admin: a preset with an http:// URL (ECR Basic password, ACR token in clear) › refused at start', () => {
    for (const [preset, url, host] of [
      ['ecr', 'http://123456789012.dkr.ecr.us-east-1.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
      ['acr', 'http://myreg.azurecr.io', 'myreg.azurecr.io'],
      ['ghcr', 'http://ghcr.io', 'ghcr.io'],
    ] as const) {
      const message = refusedField(
        `    preset: ${preset}\n    url: ${url}\n    repositories: ["${host}/x/**"]\n    auth: { type: basic, username: AWS, password: { env: PW } }\n    allowAnonymousPulls: true\n`,
      );
      assert.match(message, /upstreams\[0\]\.url/, `${preset} ${url}: ${message}`);
    }
  });

  it('hostile registry: realms near the preset realm › only the exact origin + path is accepted', () => {
    const u = parse('    preset: dockerhub\n    repositories: ["docker.io/library/*"]\n');
    const config = { ...u, credentials: { type: 'anonymous' }, tls: {} } as unknown as UpstreamConfig;
    for (const realm of ['https://auth.docker.io/token', 'https://AUTH.docker.io:443/token?scope=x'])
      assert.equal(allowedRealm(config, realm).hostname, 'auth.docker.io');
    for (const realm of [
      'http://auth.docker.io/token',
      'https://auth.docker.io/token/',
      'https://auth.docker.io/Token',
      'https://auth.docker.io/token/../evil',
      'https://auth.docker.io./token',
      'https://auth.docker.io:8443/token',
      'https://evil.auth.docker.io/token',
      'https://auth.docker.io@evil.example/token',
      'https://auth.docker.io\\@evil.example/token',
    ]) {
      assert.throws(() => allowedRealm(config, realm), /not allowed by config|invalid realm/, realm);
    }
  });

  it('a preset never fills repositories, and explicit lists (even empty) replace its hosts', () => {
    assert.match(refusedField('    preset: ghcr\n'), /repositories/);
    const u = parse(
      '    preset: registry-k8s\n    repositories: ["registry.k8s.io/pause"]\n    blobRedirects: { allowedHosts: [] }\n    apiRedirects: { allowedHosts: [] }\n    tokenRealms: []\n',
    );
    assert.deepEqual(u.blobRedirects.allowedHosts, []);
    assert.deepEqual(u.apiRedirects.allowedHosts, []);
    assert.deepEqual(u.tokenRealms, []);
  });

  it('careless admin: no config key reaches the connect-to resolver seam', () => {
    for (const [where, lines] of [
      ['top', 'resolver: { "ghcr.io:443": "127.0.0.1:1" }\n'],
      ['top', 'connectTo: { "ghcr.io:443": "127.0.0.1:1" }\n'],
      ['upstream', '    connectTo: { "ghcr.io:443": "127.0.0.1:1" }\n'],
      ['upstream', '    resolver: x\n'],
      ['redirects', '    blobRedirects: { connectTo: { "a:1": "127.0.0.1:1" } }\n'],
    ] as const) {
      const upstream = `  - name: up\n    url: https://ghcr.io\n    repositories: ["ghcr.io/x"]\n`;
      const text =
        where === 'top'
          ? `listen: { plainHttp: true }\n${lines}upstreams:\n${upstream}`
          : `listen: { plainHttp: true }\nupstreams:\n${upstream}${lines}`;
      assert.throws(() => parseConfig(text, 'test.yaml'), ConfigError, `${where}: ${lines}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 9. Rotated credentials in files.
// ---------------------------------------------------------------------------------------------

describe('a rotated file secret', () => {
  it('careless admin: a rotation that rewrites the file in place with a token of the same length and keeps its mtime (cp -p, install -p, touch -r) › the new token is still picked up', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'redirect-attack-secret-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ecr-password');
    writeFileSync(path, 'token-AAAA\n');
    const stamp = 1_700_000_000; // the mtime of the rotator's source file, kept on each copy
    utimesSync(path, stamp, stamp);
    let clock = 0;
    const secret = fileSecret(path, 'token-AAAA', () => clock);
    writeFileSync(path, 'token-BBBB\n'); // same inode, same size
    utimesSync(path, stamp, stamp);
    clock = 1_000;
    assert.equal(
      secret.reveal(),
      'token-BBBB',
      'the rotated token is never read: inode, size and mtime all look unchanged (ctime does change)',
    );
  });
});
