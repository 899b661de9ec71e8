// ScanStore behaviour, the same for the memory store and the Redis store (on the shared Redis).
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Digest } from '../../src/oci/reference.ts';
import { createMemoryScanStore } from '../../src/scan-store/memory-scan-store.ts';
import type { ScanStoreOptions } from '../../src/scan-store/options.ts';
import type { ScanStore } from '../../src/scan-store/types.ts';
import { recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { digest, openScanStore, record, request, sleep, T0 } from './scans.ts';

interface Opened {
  readonly store: ScanStore;
  /** Lets every pending marker set so far expire. */
  expire(): Promise<void>;
}
type Open = (t: TestContext, options?: ScanStoreOptions) => Promise<Opened>;

const implementations: [string, Open][] = [
  [
    'memory',
    async (_t, options = {}) => {
      let clock = T0;
      const store = createMemoryScanStore({ ...options, now: () => clock });
      return { store, expire: async () => void (clock += options.requeueAfterMs ?? 600_000) };
    },
  ],
  [
    'redis',
    async (t, options = {}) => {
      const defer = scope(t);
      const prefix = await sharedPrefix(defer, 'scan');
      const store = await openScanStore(defer, SHARED_REDIS_URL, prefix, options);
      return { store, expire: () => sleep((options.requeueAfterMs ?? 600_000) + 50) };
    },
  ],
];

for (const [name, open] of implementations) {
  describe(`scan store (${name})`, () => {
    it('keeps the record with the later finishedAt; an older one is ignored', async (t) => {
      const { store } = await open(t);
      assert.equal(await store.get(digest(1)), undefined, 'unscanned');
      await store.put(record({ finishedAt: T0 + 10 }));
      await store.put(record({ finishedAt: T0, scanner: 'old' }));
      assert.deepEqual(await store.get(digest(1)), record({ finishedAt: T0 + 10 }));
      await store.put(record({ finishedAt: T0 + 20, findings: [], counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 } }));
      assert.equal((await store.get(digest(1)))?.finishedAt, T0 + 20);
      assert.deepEqual((await store.get(digest(1)))?.findings, []);
      assert.equal(await store.get(digest(2)), undefined, 'keyed by digest');
    });

    it('queues a digest once while it is pending', async (t) => {
      const { store } = await open(t);
      assert.equal(await store.isPending(digest(1)), false);
      assert.equal(await store.request(request(1)), true);
      assert.equal(await store.request(request(1, { canonicalName: 'docker.io/other/name' })), false);
      assert.equal(await store.request(request(1)), false);
      assert.equal(await store.isPending(digest(1)), true);
      assert.deepEqual(await store.pending(10), [request(1)]);
    });

    it('queues it again once the pending marker expired with no scan', async (t) => {
      const { store, expire } = await open(t, { requeueAfterMs: 200 });
      assert.equal(await store.request(request(1)), true);
      assert.equal(await store.request(request(1)), false);
      await expire();
      assert.equal(await store.isPending(digest(1)), false);
      assert.deepEqual(await store.pending(10), [], 'expired: no longer listed');
      assert.equal(await store.request(request(1, { requestedAt: T0 + 500 })), true);
      assert.equal(await store.request(request(1)), false);
      assert.deepEqual(await store.pending(10), [request(1, { requestedAt: T0 + 500 })], 'listed once, as re-queued');
    });

    it('a put clears pending and notifies listeners, once; a put that loses to a later record does not notify', async (t) => {
      const { store } = await open(t);
      const heard: Digest[] = [];
      const stop = store.onPosted((d) => heard.push(d));
      store.onPosted(() => {
        throw new Error('a broken listener does not stop the others');
      });
      await store.request(request(1));
      await store.put(record({ finishedAt: T0 + 10 }));
      assert.equal(await store.isPending(digest(1)), false);
      assert.deepEqual(await store.pending(10), []);
      await store.put(record({ finishedAt: T0 }));
      await sleep(100); // an echo from Redis would arrive by now
      assert.deepEqual(heard, [digest(1)]);
      stop();
      await store.put(record({ finishedAt: T0 + 20 }));
      await sleep(50);
      assert.deepEqual(heard, [digest(1)], 'unsubscribed');
      assert.equal(await store.request(request(1)), true, 'scanned, yet a caller may ask for a rescan');
    });

    it('lists pending requests oldest first, up to the limit, without the scanned ones', async (t) => {
      const { store } = await open(t);
      for (const n of [5, 3, 9, 1, 7]) assert.equal(await store.request(request(n)), true);
      await store.put(record({ digest: digest(9) }));
      assert.deepEqual(
        await store.pending(10),
        [5, 3, 1, 7].map((n) => request(n)),
      );
      assert.deepEqual(await store.pending(2), [request(5), request(3)]);
      assert.deepEqual(await store.pending(0), []);
      await assert.rejects(store.pending(-1), TypeError);
    });

    it('refuses a record or request without a valid digest (programmer misuse)', async (t) => {
      const { store } = await open(t);
      await assert.rejects(store.put(record({ digest: 'sha256:nope' as Digest })), TypeError);
      await assert.rejects(store.request(request(1, { digest: 'latest' as Digest })), TypeError);
    });
  });
}

describe('scan store (memory) bounds', () => {
  it('keeps at most maxQueueLength requests, dropping the oldest (which may then be queued again)', async () => {
    const logger = recordingLogger();
    const store = createMemoryScanStore({ maxQueueLength: 3, logger });
    for (const n of [1, 2, 3, 4]) assert.equal(await store.request(request(n)), true);
    assert.deepEqual(
      await store.pending(10),
      [2, 3, 4].map((n) => request(n)),
    );
    assert.equal(await store.request(request(1)), true);
  });

  it('scanned requests make room before live ones are dropped', async () => {
    const store = createMemoryScanStore({ maxQueueLength: 3 });
    for (const n of [1, 2, 3]) await store.request(request(n));
    await store.put(record({ digest: digest(2) }));
    await store.request(request(4));
    assert.deepEqual(
      await store.pending(10),
      [1, 3, 4].map((n) => request(n)),
    );
  });

  it('refuses bad options up front', () => {
    assert.throws(() => createMemoryScanStore({ requeueAfterMs: 0 }), /requeueAfterMs/);
    assert.throws(() => createMemoryScanStore({ maxQueueLength: 1.5 }), /maxQueueLength/);
  });
});
