import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/oci/reference.ts';
import { claimNext } from '../../src/scan-store/queue.ts';
import { client, eventually, recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { digest, openScanStore, record, request, sleep, T0 } from './scans.ts';

describe('scan store (Redis)', () => {
  it('a put on one replica clears pending and notifies listeners on both, once each, within 1 s', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scan');
    const a = await openScanStore(defer, SHARED_REDIS_URL, prefix);
    const b = await openScanStore(defer, SHARED_REDIS_URL, prefix);
    const heardA: Digest[] = [];
    const heardB: Digest[] = [];
    a.onPosted((d) => heardA.push(d));
    b.onPosted((d) => heardB.push(d));
    assert.equal(await a.request(request(1)), true);
    assert.equal(await b.request(request(1)), false, 'pending is shared');
    await b.put(record());
    await eventually(() => heardA.length === 1 && heardB.length === 1, 1000, 'both replicas hear the post');
    assert.equal(await a.isPending(digest(1)), false);
    assert.deepEqual(await a.get(digest(1)), record());
    await a.put(record({ digest: digest(2) }));
    await eventually(() => heardB.length === 2, 1000, "b hears a's post");
    await sleep(100);
    assert.deepEqual(heardA, [digest(1), digest(2)]);
    assert.deepEqual(heardB, [digest(1), digest(2)]);
  });

  it('keeps the documented layout', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scan');
    const raw = await client(defer, SHARED_REDIS_URL);
    const store = await openScanStore(defer, SHARED_REDIS_URL, prefix, { requeueAfterMs: 60_000, maxQueueLength: 100 });
    assert.deepEqual(
      ((await raw.xinfo('GROUPS', `${prefix}scan-requests`)) as unknown[][]).map((g) => g[1]),
      ['scanners'],
      'group created on start',
    );
    await store.request(request(1));
    await store.put(record({ digest: digest(2) }));
    assert.deepEqual((await raw.keys(`${prefix}*`)).sort(), [
      `${prefix}scan-requests`,
      `${prefix}scan:pending:${digest(1)}`,
      `${prefix}scan:records`,
    ]);
    const marker = `${prefix}scan:pending:${digest(1)}`;
    const [[id, fields]] = (await raw.xrange(`${prefix}scan-requests`, '-', '+')) as [[string, string[]]];
    assert.deepEqual(fields, ['digest', digest(1), 'name', 'docker.io/library/app1', 'upstream', 'docker', 'requestedAt', String(T0 + 1)]);
    assert.equal(await raw.get(marker), id, 'the marker names the entry that queued the digest');
    const ttl = await raw.pttl(marker);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `marker TTL is requeueAfterMs: ${ttl}`);
    assert.deepEqual(JSON.parse((await raw.hget(`${prefix}scan:records`, digest(2))) ?? 'null'), record({ digest: digest(2) }));
  });

  it('reads an unreadable record as unscanned, and logs it', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scan');
    const raw = await client(defer, SHARED_REDIS_URL);
    const logger = recordingLogger();
    const store = await openScanStore(defer, SHARED_REDIS_URL, prefix, { logger });
    for (const bad of [JSON.stringify(record({ digest: digest(9) })), JSON.stringify({ ...record(), counts: {} }), 'not json']) {
      await raw.hset(`${prefix}scan:records`, digest(1), bad);
      assert.equal(await store.get(digest(1)), undefined, bad);
    }
    assert.match(logger.text(), /unreadable scan record/);
    await store.put(record({ finishedAt: 0 }));
    assert.deepEqual(await store.get(digest(1)), record({ finishedAt: 0 }), 'a record that is not JSON gives way to any other');
  });

  it('keeps replicas apart by ioredis keyPrefix too: channels carry it', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scan');
    const inner = `s${randomBytes(4).toString('hex')}:`;
    const mine = await openScanStore(defer, SHARED_REDIS_URL, inner, { connection: { keyPrefix: `${prefix}one:` } });
    const same = await openScanStore(defer, SHARED_REDIS_URL, inner, { connection: { keyPrefix: `${prefix}one:` } });
    const other = await openScanStore(defer, SHARED_REDIS_URL, inner, { connection: { keyPrefix: `${prefix}two:` } });
    const heard: string[] = [];
    same.onPosted(() => heard.push('same'));
    other.onPosted(() => heard.push('other'));
    await mine.put(record());
    await eventually(() => heard.includes('same'), 1000, 'same deployment hears it');
    await sleep(100);
    assert.deepEqual(heard, ['same']);
    assert.equal(await other.get(digest(1)), undefined);
    assert.equal(await mine.request(request(2)), true);
    const scanner = await client(defer, SHARED_REDIS_URL, { keyPrefix: `${prefix}one:` });
    assert.deepEqual((await claimNext(scanner, inner, 'scanner-a', { blockMs: 0, reclaimIdleMs: 60_000 }))?.request, request(2));
    const raw = await client(defer, SHARED_REDIS_URL);
    assert.deepEqual(await raw.exists(`${inner}scan-requests`, `${inner}scan:records`), 0, 'nothing written outside the keyPrefix');
    assert.equal(await raw.exists(`${prefix}one:${inner}scan-requests`, `${prefix}two:${inner}scan-requests`), 2);
  });
});
