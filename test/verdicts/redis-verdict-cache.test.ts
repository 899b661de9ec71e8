import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVerdictCache, type VerdictLayerName } from '../../src/verdicts/verdict-cache.ts';
import { verdictId } from '../../src/verdicts/verdict-entry.ts';
import { client, recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { sharedLayer } from './verdict-layer.ts';
import { allow, D1, deny, HOUR, key, T0 } from './verdicts.ts';

const options = { allowTtlMs: 24 * HOUR, denyTtlMs: HOUR, memoryEntries: 100 };

describe('verdict cache (memory → Redis)', () => {
  it('is shared: a put on one replica is a hit on another, then from its memory', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const lookups: [VerdictLayerName, boolean][] = [];
    const a = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    const b = createVerdictCache({
      ...options,
      shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options),
      onLookup: (layer, hit) => lookups.push([layer, hit]),
    });
    await a.put(key(), allow({ notAfter: T0 + HOUR }), T0);
    assert.deepEqual(await b.get(key(), T0 + 1), allow({ notAfter: T0 + HOUR }));
    assert.deepEqual(await b.get(key(), T0 + 2), allow({ notAfter: T0 + HOUR }));
    assert.deepEqual(lookups, [
      ['memory', false],
      ['redis', true],
      ['memory', true],
    ]);
  });

  it('misses for the same digest under another repository, policy or trust version', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const a = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    const b = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    await a.put(key(), allow(), T0);
    assert.equal(await b.get(key({ canonicalName: 'docker.io/other/app' }), T0), undefined);
    assert.equal(await b.get(key({ policyHash: 'policy-2' }), T0), undefined);
    assert.equal(await b.get(key({ trustVersion: 8 }), T0), undefined);
  });

  it('keeps the put time expiry in Redis: an allow read elsewhere still ends at notAfter', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const raw = await client(defer, SHARED_REDIS_URL);
    const a = createVerdictCache({ ...options, shared: sharedLayer(raw, prefix, options) });
    const b = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    await a.put(key(), allow({ notAfter: T0 + 10_000 }), T0);
    const pttl = await raw.pttl(`${prefix}verdict:${verdictId(key())}`);
    assert.ok(pttl > 9_000 && pttl <= 10_000, `Redis TTL is min(allowTtl, notAfter − now): ${pttl}`);
    assert.equal(await b.get(key(), T0 + 10_000), undefined, 'past notAfter on the reader clock');
    await a.put(key({ trustVersion: 9 }), deny(), T0);
    assert.ok((await raw.pttl(`${prefix}verdict:${verdictId(key({ trustVersion: 9 }))}`)) > HOUR - 1000);
    assert.ok(await b.get(key({ trustVersion: 9 }), T0 + HOUR - 1));
    assert.equal(await b.get(key({ trustVersion: 9 }), T0 + HOUR), undefined, 'deny TTL');
  });

  it("stores under a hash of the key parts, never the digest, plus an index of the digest's verdict keys", async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const raw = await client(defer, SHARED_REDIS_URL);
    await createVerdictCache({ ...options, shared: sharedLayer(raw, prefix, options) }).put(key(), allow({ notAfter: T0 + 60_000 }), T0);
    const verdictKey = `${prefix}verdict:${verdictId(key())}`;
    const index = `${prefix}verdicts-by-digest:${D1}`;
    assert.deepEqual((await raw.keys(`${prefix}*`)).sort(), [verdictKey, index].sort());
    assert.ok(!verdictKey.includes(D1.slice(7)));
    assert.deepEqual(await raw.smembers(index), [verdictKey]);
    const indexTtl = await raw.pttl(index);
    assert.ok(indexTtl > 24 * HOUR - 5000 && indexTtl <= 24 * HOUR, `the index lasts as long as the longest verdict TTL: ${indexTtl}`);
  });

  it('treats a malformed value in Redis as a miss', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const raw = await client(defer, SHARED_REDIS_URL);
    const logger = recordingLogger();
    const cache = createVerdictCache({ ...options, logger, shared: sharedLayer(raw, prefix, options, logger) });
    for (const bad of [
      'not json',
      '{"expiresAt":1e20,"decision":{"outcome":"maybe"}}',
      `{"expiresAt":1e20,"decision":{"outcome":"allow","rule":"r","reasons":[],"signers":[],"digest":"${D1}","notAfter":"soon"}}`,
    ]) {
      await raw.set(`${prefix}verdict:${verdictId(key())}`, bad);
      assert.equal(await cache.get(key(), T0), undefined, bad);
    }
    assert.match(logger.text(), /malformed verdict/);
  });
});
