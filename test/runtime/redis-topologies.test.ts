import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisScanStore } from '../../src/scan-store/redis-scan-store.ts';
import { ack, claimNext } from '../../src/scan-store/queue.ts';
import { createVerdictCache } from '../../src/verdicts/verdict-cache.ts';
import { createRedisTrustStore } from '../../src/trust-store/redis-trust-store.ts';
import { entry, T0 } from '../trust/entries.ts';
import { openStore } from '../trust-store/redis-store-kit.ts';
import { client, eventually, scope } from '../support/helpers.ts';
import { startOwnRedis } from '../support/own-redis.ts';
import { sharedLayer } from '../verdicts/verdict-layer.ts';
import { openScanStore, record, request } from '../scan-store/scans.ts';
import { policyRuleName } from '../../src/decision/decision.ts';

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
      const node = await startOwnRedis({
        args: (dir) => ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, 'nodes.conf')],
      });
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

    it('runs the scan store, the scan queue and verdict forgetting when the prefix carries a hash tag', async (t) => {
      const defer = scope(t);
      const url = await singleNodeCluster(defer);
      const a = await openScanStore(defer, url, '{tg}:');
      const b = await openScanStore(defer, url, '{tg}:');
      const heard: string[] = [];
      b.onPosted((d) => heard.push(d));
      assert.equal(await a.request(request(1)), true);
      assert.deepEqual(await b.pending(10), [request(1)]);
      const scanner = await client(defer, url);
      const claimed = await claimNext(scanner, '{tg}:', 'scanner-a', { blockMs: 100, reclaimIdleMs: 60_000 });
      assert.deepEqual(claimed?.request, request(1));
      await ack(scanner, '{tg}:', claimed?.id ?? '');
      await a.put(record());
      await eventually(() => heard.length === 1, 1000, 'B hears the post');
      const verdicts = createVerdictCache({
        allowTtlMs: 60_000,
        denyTtlMs: 60_000,
        memoryEntries: 10,
        shared: sharedLayer(scanner, '{tg}:', { allowTtlMs: 60_000, denyTtlMs: 60_000 }),
      });
      const key = {
        canonicalName: 'docker.io/library/app',
        digest: record().digest,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        policyHash: 'p',
        trustVersion: 1,
        identity: undefined,
      };
      await verdicts.put(
        key,
        { outcome: 'allow', rule: policyRuleName('r'), reasons: [], signers: [], digest: key.digest, notAfter: undefined },
        T0,
      );
      await verdicts.forgetDigest(key.digest, true);
      assert.deepEqual(await scanner.keys('{tg}:verdict*'), []);
    });

    it('refuses a scan store prefix without a hash tag', async (t) => {
      const defer = scope(t);
      const url = await singleNodeCluster(defer);
      const redis = await client(defer, url);
      const subscriber = await client(defer, url);
      await assert.rejects(createRedisScanStore({ redis, subscriber, prefix: 'tg:' }), /hash tag/);
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
