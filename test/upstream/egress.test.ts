import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createUpstreamClient } from '../../src/upstream/index.ts';
import {
  connectToResolver,
  parseNetworks,
  pickAddress,
  redirectGuard,
  specialKind,
  type AddressResolver,
} from '../../src/upstream/egress.ts';
import { hostMatches } from '../../src/upstream/redirect.ts';
import { TrustgateError } from '../../src/errors/errors.ts';
import { MANIFEST, upstreamConfig } from './helpers/config.ts';
import { sendJson, serverFor as server } from './helpers/fake-server.ts';
import { rejection } from '../support/rejection.ts';

const refusal = (host: string, why: string): TrustgateError => new TrustgateError('UPSTREAM_REDIRECT_REFUSED', `${host}: ${why}`);
const octet = fc.integer({ min: 0, max: 255 });

describe('the address policy of redirect hops', () => {
  it('names each special range', () => {
    const cases: Array<[string, string | undefined]> = [
      ['0.0.0.0', 'unspecified'],
      ['10.20.30.40', 'private'],
      ['100.64.0.1', 'CGNAT'],
      ['100.127.255.254', 'CGNAT'],
      ['100.128.0.1', undefined],
      ['127.0.0.1', 'loopback'],
      ['169.254.169.254', 'link-local'],
      ['172.16.0.1', 'private'],
      ['172.32.0.1', undefined],
      ['192.168.1.1', 'private'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['8.8.8.8', undefined],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'IPv4-mapped'],
      ['::ffff:8.8.8.8', 'IPv4-mapped'],
      ['64:ff9b::a00:1', 'NAT64'],
      ['fd12:3456::1', 'private'],
      ['fe80::1', 'link-local'],
      ['ff02::1', 'multicast'],
      ['2606:4700::1111', undefined],
    ];
    for (const [address, kind] of cases) assert.equal(specialKind(address), kind, address);
  });

  it('property: any address in 10/8, 127/8, 169.254/16, 100.64/10 or 192.168/16 is refused unless a listed network holds it', () => {
    const guard = redirectGuard(parseNetworks([]));
    const allowing = redirectGuard(parseNetworks(['10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', '192.168.0.0/16']));
    const special = fc.oneof(
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `10.${b}.${c}.${d}`),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `127.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `169.254.${c}.${d}`),
      fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([b, c, d]) => `100.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `192.168.${c}.${d}`),
    );
    fc.assert(
      fc.property(special, (address) => {
        assert.notEqual(guard(address), undefined, address);
        assert.equal(allowing(address), undefined, address);
      }),
    );
  });

  it('property: every IPv4-mapped IPv6 address is refused, whatever IPv4 address it maps', () => {
    const guard = redirectGuard(parseNetworks([]));
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), ([a, b, c, d]) => {
        assert.equal(guard(`::ffff:${a}.${b}.${c}.${d}`), 'an IPv4-mapped address');
      }),
    );
  });

  it('a name that resolves to one public and one private address is refused whole', async () => {
    const resolver: AddressResolver = async (_host, port) => [
      { address: '93.184.215.14', family: 4, port },
      { address: '10.0.0.7', family: 4, port },
    ];
    const error = await rejection(pickAddress(resolver, 'cdn.example.com', 443, redirectGuard(parseNetworks([])), refusal));
    assert.equal(error.message, 'cdn.example.com: it resolves to a private address');
    const chosen = await pickAddress(resolver, 'cdn.example.com', 443, redirectGuard(parseNetworks(['10.0.0.0/24'])), refusal);
    assert.equal(chosen.address, '93.184.215.14');
  });
});

describe('pinned connections (no DNS rebinding)', () => {
  it('each connection resolves once and connects to exactly what was resolved and checked', async (t) => {
    const first = await server(t, (_req, res) => sendJson(res, 200, { from: 'first' }));
    const second = await server(t, (_req, res) => sendJson(res, 200, { from: 'second' }));
    const calls: string[] = [];
    // A rebinding name: the first answer differs from every later one.
    const resolver: AddressResolver = async (host, port) => {
      calls.push(`${host}:${port}`);
      return [{ address: '127.0.0.1', family: 4, port: calls.length === 1 ? first.port : second.port }];
    };
    const client = createUpstreamClient(upstreamConfig('http://registry.test'), { resolver });
    t.after(() => client.close());
    const answer = await client.request(MANIFEST);
    assert.deepEqual(JSON.parse(answer.body.toString()), { from: 'first' });
    assert.deepEqual(calls, ['registry.test:80']);
    assert.equal(first.requests.length, 1);
    assert.equal(second.requests.length, 0);
  });

  it('connect-to maps host:port pairs and leaves other names to the fallback', async () => {
    const fallback: AddressResolver = async (host, port) => [{ address: '192.0.2.1', family: 4, port: port + (host === 'b.test' ? 1 : 0) }];
    const resolve = connectToResolver({ 'ghcr.io:443': '127.0.0.1:4443', '[::1]:443': '[::1]:9' }, fallback);
    assert.deepEqual(await resolve('ghcr.io', 443), [{ address: '127.0.0.1', family: 4, port: 4443 }]);
    assert.deepEqual(await resolve('ghcr.io', 80), [{ address: '192.0.2.1', family: 4, port: 80 }]);
    assert.deepEqual(await resolve('[::1]', 443), [{ address: '::1', family: 6, port: 9 }]);
  });
});

describe('redirect host patterns', () => {
  it('match whole names, a "*" inside one label, and a port only when the pattern names one', () => {
    const cases: Array<[string, string, boolean]> = [
      ['cdn.quay.io', 'https://cdn.quay.io/x', true],
      ['cdn.quay.io', 'https://cdn.quay.io:8443/x', true],
      ['cdn.quay.io:443', 'https://cdn.quay.io/x', true],
      ['cdn.quay.io:443', 'https://cdn.quay.io:8443/x', false],
      ['cdn.quay.io', 'https://evil-cdn.quay.io/x', false],
      ['cdn.quay.io', 'https://cdn.quay.io.evil.example/x', false],
      ['*-docker.pkg.dev', 'https://us-west2-docker.pkg.dev/v2/', true],
      ['*-docker.pkg.dev', 'https://docker.pkg.dev/v2/', false],
      ['*-docker.pkg.dev', 'https://a.us-docker.pkg.dev/v2/', false],
      ['*.blob.core.windows.net', 'https://acct.blob.core.windows.net/c', true],
      ['*.blob.core.windows.net', 'https://a.b.blob.core.windows.net/c', false],
      [
        'prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com',
        'https://prod-registry-k8s-io-us-east-2.s3.dualstack.us-east-2.amazonaws.com/x',
        true,
      ],
      [
        'prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com',
        'https://prod-registry-k8s-io-x.s3.dualstack.evil.com.amazonaws.com/x',
        false,
      ],
      ['CDN.Quay.IO', 'https://cdn.quay.io/x', true],
    ];
    for (const [pattern, url, want] of cases) assert.equal(hostMatches(pattern, new URL(url)), want, `${pattern} ${url}`);
  });

  it('hops are bounded: a redirect loop through allowed hosts stops at maxHops, naming the setting', async (t) => {
    const loop = await server(t, (req, res) => {
      res.writeHead(302, { location: `${loop.origin}${req.url ?? '/'}x` });
      res.end();
    });
    const registry = await server(t, (_req, res) => {
      res.writeHead(307, { location: `${loop.origin}/blob` });
      res.end();
    });
    const config = upstreamConfig(registry.origin, {
      apiRedirects: { allowedHosts: [new URL(loop.origin).host] },
      blobRedirects: { mode: 'pass', allowedHosts: [], allowedNetworks: ['127.0.0.1/32'], maxHops: 3 },
    });
    const client = createUpstreamClient(config);
    t.after(() => client.close());
    const error = await rejection(client.request(MANIFEST));
    assert.equal(error.code, 'UPSTREAM_REDIRECT_REFUSED');
    assert.match(error.message, /which redirected again after 3 hops; to allow it, change upstreams\[0\]\.blobRedirects\.maxHops$/);
    assert.equal(loop.requests.length, 3);
  });

  it('an https upstream is never followed down to plain http, nor to a URL with credentials', async (t) => {
    const client = createUpstreamClient(upstreamConfig('https://registry.test', { apiRedirects: { allowedHosts: ['cdn.test'] } }));
    t.after(() => client.close());
    const from = new URL('https://registry.test/v2/a/blobs/x');
    const down = await rejection(client.redirects.follow('http://cdn.test/blob', from, { kind: 'api', method: 'GET' }));
    assert.match(down.message, /redirected to cdn\.test, over plain http from an https upstream/);
    const userinfo = await rejection(client.redirects.follow('https://u:p@cdn.test/blob', from, { kind: 'api', method: 'GET' }));
    assert.match(userinfo.message, /a URL with credentials in it/);
    assert.doesNotMatch(userinfo.message, /u:p/);
  });
});
