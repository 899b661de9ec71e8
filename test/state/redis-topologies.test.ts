import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisTrustStore } from '../../src/trust/redis-trust-store.ts';
import { entry, T0 } from '../trust/entries.ts';
import { openStore } from '../trust/redis-store-kit.ts';
import { client, eventually, scope } from './support/helpers.ts';
import { startOwnRedis } from './support/own-redis.ts';

describe('redis topologies', () => {
  it('finds the master through Sentinel (redis-sentinel://host:port/<masterName>)', async (t) => {
    const defer = scope(t);
    const master = await startOwnRedis();
    defer(() => master.stop());
    const sentinel = await startOwnRedis({
      sentinel: true,
      args: (dir, port) => {
        const file = join(dir, 'sentinel.conf');
        writeFileSync(file, `port ${port}\nsentinel monitor tgmaster 127.0.0.1 ${master.port} 1\n`);
        return [file];
      },
    });
    defer(() => sentinel.stop());
    const redis = await client(defer, `redis-sentinel://127.0.0.1:${sentinel.port}/tgmaster`);
    await redis.set('k', 'through sentinel');
    const direct = await client(defer, `redis://127.0.0.1:${master.port}`);
    assert.equal(await direct.get('k'), 'through sentinel');
  });

  describe('Redis Cluster (redis-cluster://host:port,…)', () => {
    async function singleNodeCluster(defer: (c: () => unknown) => void): Promise<string> {
      const node = await startOwnRedis({ args: (dir) => ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, 'nodes.conf')] });
      defer(() => node.stop());
      const admin = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true });
      defer(() => admin.disconnect());
      await admin.connect();
      await admin.cluster('ADDSLOTSRANGE', 0, 16383);
      await eventually(async () => String(await admin.cluster('INFO')).includes('cluster_state:ok'), 5000, 'cluster ok');
      return `redis-cluster://127.0.0.1:${node.port}`;
    }

    it('runs the trust store when the prefix carries a hash tag', async (t) => {
      const defer = scope(t);
      const url = await singleNodeCluster(defer);
      const a = await openStore(defer, url, '{tg}:');
      const b = await openStore(defer, url, '{tg}:');
      await a.upsert([entry('k')]);
      await a.revoke('k', 'r', T0);
      await eventually(() => b.snapshot().revocations.length === 1, 1000, 'B sees the revoke');
    });

    it('refuses a prefix without a hash tag (its keys would span slots)', async (t) => {
      const defer = scope(t);
      const url = await singleNodeCluster(defer);
      const redis = await client(defer, url);
      const subscriber = await client(defer, url);
      await assert.rejects(createRedisTrustStore({ redis, subscriber, prefix: 'tg:' }), /hash tag/);
    });
  });
});
