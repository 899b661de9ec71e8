import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ack, claimNext } from '../../src/scan-store/queue.ts';
import { client, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { openScanStore, request, sleep } from './scans.ts';

const NOW = { blockMs: 0, reclaimIdleMs: 60_000 };

describe('scan queue (scanner side, Redis)', () => {
  it('gives each request to one consumer; acked requests leave the stream', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scanq');
    const store = await openScanStore(defer, SHARED_REDIS_URL, prefix);
    const a = await client(defer, SHARED_REDIS_URL);
    const b = await client(defer, SHARED_REDIS_URL);
    for (const n of [1, 2, 3, 4]) await store.request(request(n));
    const claims = [
      await claimNext(a, prefix, 'scanner-a', NOW),
      await claimNext(b, prefix, 'scanner-b', NOW),
      await claimNext(a, prefix, 'scanner-a', NOW),
      await claimNext(b, prefix, 'scanner-b', NOW),
    ];
    assert.deepEqual(
      claims.map((c) => c?.request),
      [1, 2, 3, 4].map((n) => request(n)),
      'each once, in order',
    );
    assert.equal(await claimNext(a, prefix, 'scanner-a', NOW), undefined);
    assert.equal(await claimNext(b, prefix, 'scanner-b', NOW), undefined);
    for (const c of claims) if (c !== undefined) await ack(a, prefix, c.id);
    assert.equal(await a.xlen(`${prefix}scan-requests`), 0);
    assert.equal(((await a.xpending(`${prefix}scan-requests`, 'scanners')) as unknown[])[0], 0);
  });

  it('a claim left unacknowledged past reclaimIdleMs goes to another consumer', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scanq');
    const store = await openScanStore(defer, SHARED_REDIS_URL, prefix);
    const a = await client(defer, SHARED_REDIS_URL);
    const b = await client(defer, SHARED_REDIS_URL);
    const options = { blockMs: 0, reclaimIdleMs: 150 };
    await store.request(request(1));
    const dead = await claimNext(a, prefix, 'scanner-a', options);
    assert.deepEqual(dead?.request, request(1));
    assert.equal(await claimNext(b, prefix, 'scanner-b', options), undefined, 'not idle long enough yet');
    await sleep(200);
    const taken = await claimNext(b, prefix, 'scanner-b', options);
    assert.equal(taken?.id, dead?.id);
    assert.deepEqual(taken?.request, request(1));
    assert.equal(await claimNext(a, prefix, 'scanner-a', { ...options, reclaimIdleMs: 60_000 }), undefined, 'b holds it now');
    await ack(b, prefix, taken?.id ?? '');
    await sleep(200);
    assert.equal(await claimNext(a, prefix, 'scanner-a', options), undefined, 'acked: nothing to reclaim');
  });

  it('waits up to blockMs for a new request', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scanq');
    const store = await openScanStore(defer, SHARED_REDIS_URL, prefix);
    const scanner = await client(defer, SHARED_REDIS_URL);
    const started = Date.now();
    assert.equal(await claimNext(scanner, prefix, 'scanner-a', { blockMs: 200, reclaimIdleMs: 60_000 }), undefined);
    assert.ok(Date.now() - started >= 190, 'waited');
    const claim = claimNext(scanner, prefix, 'scanner-a', { blockMs: 1500, reclaimIdleMs: 60_000 });
    await sleep(100);
    await store.request(request(7));
    assert.deepEqual((await claim)?.request, request(7));
  });

  it('recreates the group when Redis lost it, and skips malformed entries', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'scanq');
    const raw = await client(defer, SHARED_REDIS_URL);
    assert.equal(await claimNext(raw, prefix, 'scanner-a', NOW), undefined, 'no stream, no group yet');
    await raw.xadd(`${prefix}scan-requests`, '*', 'digest', 'not-a-digest');
    await raw.xadd(`${prefix}scan-requests`, '*', ...['digest', request(2).digest, 'name', 'n', 'upstream', 'u', 'requestedAt', '5']);
    assert.deepEqual((await claimNext(raw, prefix, 'scanner-a', NOW))?.request, {
      digest: request(2).digest,
      canonicalName: 'n',
      upstream: 'u',
      requestedAt: 5,
    });
    assert.equal(await raw.xlen(`${prefix}scan-requests`), 1, 'the malformed entry was acked and deleted');
  });

  it('refuses a blockMs the command timeout would cut short', async (t) => {
    const defer = scope(t);
    const redis = await client(defer, SHARED_REDIS_URL, { commandTimeoutMs: 1000 });
    await assert.rejects(claimNext(redis, 'p:', 'c', { blockMs: 1000, reclaimIdleMs: 1 }), /commandTimeout/);
    await assert.rejects(claimNext(redis, 'p:', 'c', { blockMs: 10, reclaimIdleMs: 0 }), /reclaimIdleMs/);
  });
});
