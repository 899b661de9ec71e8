import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { parseRedisUrl, redactRedisUrl } from '../../src/redis/url.ts';

describe('redis URLs', () => {
  it('reads a plain URL with ACL credentials and a database', () => {
    const target = parseRedisUrl('redis://alice:p%40ss%3Aword@cache.internal:6380/3');
    assert.equal(target.topology, 'standalone');
    assert.equal(target.tls, false);
    assert.deepEqual(target.nodes, [{ host: 'cache.internal', port: 6380 }]);
    assert.equal(target.username, 'alice');
    assert.equal(target.password?.reveal(), 'p@ss:word');
    assert.equal(target.db, 3);
    assert.ok(!inspect(target).includes('p@ss'), 'the password never shows in inspect');
  });

  it('defaults the port, reads TLS, a password without user, and IPv6', () => {
    assert.deepEqual(parseRedisUrl('rediss://:pw@[::1]').nodes, [{ host: '::1', port: 6379 }]);
    assert.equal(parseRedisUrl('rediss://:pw@[::1]').tls, true);
    assert.equal(parseRedisUrl('rediss://:pw@[::1]').username, undefined);
    assert.equal(parseRedisUrl('redis://localhost').password, undefined);
  });

  it('reads sentinels, the master name and the database', () => {
    const target = parseRedisUrl('redis-sentinel://u:pw@s1:26380,s2,[::1]:5000/mymaster/2?sentinelAuth=true');
    assert.equal(target.topology, 'sentinel');
    assert.deepEqual(target.nodes, [
      { host: 's1', port: 26380 },
      { host: 's2', port: 26379 },
      { host: '::1', port: 5000 },
    ]);
    assert.equal(target.masterName, 'mymaster');
    assert.equal(target.db, 2);
    assert.equal(target.sentinelAuth, true);
    assert.equal(parseRedisUrl('rediss-sentinel://s1/m').tls, true);
    assert.equal(parseRedisUrl('redis-sentinel://s1/m').sentinelAuth, false);
  });

  it('reads cluster seed nodes', () => {
    const target = parseRedisUrl('redis-cluster://n1:7000,n2:7001');
    assert.equal(target.topology, 'cluster');
    assert.deepEqual(
      target.nodes.map((n) => n.port),
      [7000, 7001],
    );
  });

  for (const [url, why] of [
    ['http://host', /unsupported scheme/],
    ['redis://a,b', /one host/],
    ['redis-sentinel://s1:26379', /names the master/],
    ['redis-cluster://n1/1', /only database 0/],
    ['redis://host/x', /bad database/],
    ['redis://host:99999', /bad host/],
    ['redis://host?password=x', /unknown parameter/],
    ['redis:///0', /no host/],
  ] as const) {
    it(`refuses ${url}`, () => assert.throws(() => parseRedisUrl(url), why));
  }

  it('never puts the password in an error or a redacted URL', () => {
    for (const url of ['foo://u:hunter2@h', 'redis://u:hunter2@h/x', 'redis://u:hun@ter2/x@h/x', 'redis://:hunter2@h:0']) {
      assert.throws(
        () => parseRedisUrl(url),
        (error: Error) => !error.message.includes('hunter2') && !error.message.includes('ter2'),
      );
      assert.ok(!redactRedisUrl(url).includes('ter2'), redactRedisUrl(url));
    }
    assert.equal(redactRedisUrl('redis://u:pw@h:1/0'), 'redis://u:***@h:1/0');
  });
});
