import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { connectRedis, createRedis, warnOnEvictionPolicy } from '../../src/redis/connection.ts';
import { makeTls } from '../kit/tls.ts';
import { client, eventually, recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix, within } from '../support/helpers.ts';
import { startOwnRedis } from '../support/own-redis.ts';

const PASSWORD = 's3:cr@t/pw';
const ACL = ['--user', 'default', 'off', '--user', 'alice', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'];

describe('redis connections', () => {
  it('connects lazily and prefixes keys with keyPrefix', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'conn');
    const redis = createRedis(SHARED_REDIS_URL, { keyPrefix: prefix });
    defer(() => redis.disconnect());
    assert.equal(redis.status, 'wait', 'nothing happens before connectRedis');
    await connectRedis(redis);
    await redis.set('k', 'v');
    assert.equal(await (await client(defer, SHARED_REDIS_URL)).get(`${prefix}k`), 'v');
  });

  it('authenticates as an ACL user from the URL, and never logs the password', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis({ args: () => ACL });
    defer(() => server.stop());
    const encoded = encodeURIComponent(PASSWORD);
    const good = await client(defer, `redis://alice:${encoded}@127.0.0.1:${server.port}`);
    assert.equal(await good.acl('WHOAMI'), 'alice');

    const logger = recordingLogger();
    const bad = createRedis(`redis://alice:wrong-${encoded}@127.0.0.1:${server.port}`, { logger, maxRetryDelayMs: 100 });
    defer(() => bad.disconnect());
    await assert.rejects(connectRedis(bad, 500), /not ready/);
    await eventually(() => logger.records.some((r) => r.level === 'warn'), 1000, 'the failure is logged');
    assert.match(logger.text(), /WRONGPASS/);
    assert.ok(!logger.text().includes('wrong-') && !logger.text().includes('cr@t'), logger.text());
  });

  it('speaks TLS for rediss:// with the given CA, and refuses a server it cannot verify', async (t) => {
    const defer = scope(t);
    const tls = await makeTls();
    defer(() => rm(tls.dir, { recursive: true, force: true }));
    const server = await startOwnRedis({
      tls: true,
      args: () => [
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
        '--tls-ca-cert-file',
        tls.caFile,
        '--tls-auth-clients',
        'no',
      ],
    });
    defer(() => server.stop());
    const url = `rediss://127.0.0.1:${server.port}`;
    const redis = await client(defer, url, { tls: { ca: await readFile(tls.caFile) } });
    assert.equal(await redis.ping(), 'PONG');
    const untrusted = createRedis(url, { maxRetryDelayMs: 100 });
    defer(() => untrusted.disconnect());
    await assert.rejects(connectRedis(untrusted, 500), /not ready/);
  });

  it('fails commands at once while Redis is down, and recovers by itself', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const redis = await client(defer, `redis://127.0.0.1:${server.port}`);
    await server.kill();
    await within(1000, assert.rejects(redis.get('k')));
    await server.start();
    await eventually(async () => (await redis.ping()) === 'PONG', 3000, 'reconnects');
  });

  describe('warnOnEvictionPolicy', () => {
    for (const [policy, warns] of [
      ['allkeys-lru', true],
      ['volatile-lru', false],
      ['noeviction', false],
    ] as const) {
      it(`${warns ? 'warns' : 'is quiet'} on ${policy}`, async (t) => {
        const defer = scope(t);
        const server = await startOwnRedis({ args: () => ['--maxmemory-policy', policy] });
        defer(() => server.stop());
        const logger = recordingLogger();
        assert.equal(await warnOnEvictionPolicy(await client(defer, `redis://127.0.0.1:${server.port}`), logger), policy);
        assert.equal(
          logger.records.some((r) => r.level === 'warn'),
          warns,
        );
        if (warns) assert.match(logger.text(), /CAN EVICT TRUST-STORE REVOCATIONS/);
      });
    }

    it('tolerates CONFIG being disabled', async (t) => {
      const defer = scope(t);
      const server = await startOwnRedis({ args: () => ['--rename-command', 'CONFIG', ''] });
      defer(() => server.stop());
      const logger = recordingLogger();
      assert.equal(await warnOnEvictionPolicy(await client(defer, `redis://127.0.0.1:${server.port}`), logger), undefined);
      assert.match(logger.text(), /could not read redis maxmemory-policy/);
    });
  });
});
