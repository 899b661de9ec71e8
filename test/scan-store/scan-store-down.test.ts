import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/oci/reference.ts';
import { createRedisScanStore } from '../../src/scan-store/redis-scan-store.ts';
import { claimNext } from '../../src/scan-store/queue.ts';
import { client, eventually, recordingLogger, scope, within } from '../support/helpers.ts';
import { startOwnRedis } from '../support/own-redis.ts';
import { digest, openScanStore, record, request } from './scans.ts';

const FAST = 3000; // every call must come back within this while Redis is down

describe('scan store when Redis goes down', () => {
  it('fails closed and never hangs: get undefined, request false, put rejects; works again once Redis is back', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const url = `redis://127.0.0.1:${server.port}`;
    const logger = recordingLogger();
    let missed = 0;
    const store = await openScanStore(defer, url, 'tg:', { logger, onMissedPosts: () => void (missed += 1) });
    const other = await openScanStore(defer, url, 'tg:');
    const heard: Digest[] = [];
    store.onPosted((d) => heard.push(d));
    await store.put(record());
    assert.ok(await store.get(digest(1)));

    await server.kill();
    assert.equal(await within(FAST, store.get(digest(1))), undefined, 'fail closed: reads as unscanned');
    assert.equal(await within(FAST, store.request(request(2))), false);
    assert.equal(await within(FAST, store.isPending(digest(2))), false);
    await within(FAST, assert.rejects(store.put(record({ digest: digest(3) })), /scan store unavailable, put failed/));
    await within(FAST, assert.rejects(store.pending(10), /scan store unavailable/));
    assert.match(logger.text(), /scan store read from redis failed/);
    assert.match(logger.text(), /queueing a scan request in redis failed/);

    // Back, empty: the replica hears posts again and the queue works without a restart.
    await server.start();
    await eventually(() => missed > 0, 5000, 'the subscriber is back and says posts may have been missed');
    await eventually(() => store.request(request(2)), 5000, 'requests are queued again');
    const scanner = await client(defer, url);
    assert.deepEqual((await claimNext(scanner, 'tg:', 'scanner-a', { blockMs: 0, reclaimIdleMs: 60_000 }))?.request, request(2));
    // The other replica reconnects on its own backoff: retry its post until its connection is back.
    await eventually(
      () =>
        other.put(record({ digest: digest(2) })).then(
          () => true,
          () => false,
        ),
      5000,
      'the other replica can post again',
    );
    // A liveness bound, not a timing: the whole suite runs at once on two CPUs (1 s once failed there).
    await eventually(() => heard.includes(digest(2)), 5000, 'posts from other replicas are heard again');
  });

  it('when Redis hangs (connected, silent), calls give up after the command timeout', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const store = await openScanStore(defer, `redis://127.0.0.1:${server.port}`, 'tg:', { connection: { commandTimeoutMs: 300 } });
    server.pause();
    defer(() => server.resume());
    assert.equal(await within(FAST, store.get(digest(1))), undefined);
    assert.equal(await within(FAST, store.request(request(1))), false);
    await within(FAST, assert.rejects(store.put(record()), /scan store unavailable/));
  });

  it('refuses to start without Redis', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const url = `redis://127.0.0.1:${server.port}`;
    const redis = await client(defer, url);
    const subscriber = await client(defer, url);
    await server.kill();
    await within(
      FAST,
      assert.rejects(
        createRedisScanStore({ redis, subscriber, prefix: 'tg:', connectTimeoutMs: 1000 }),
        /scan store unavailable, start failed/,
      ),
    );
  });
});
