// VerdictCache.forgetDigest against the shared Redis: a posted scan drops a digest's verdicts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVerdictCache, type VerdictLayerName } from '../../src/verdicts/verdict-cache.ts';
import { verdictId } from '../../src/verdicts/verdict-entry.ts';
import { client, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { sharedLayer } from './verdict-layer.ts';
import { allow, D1, D2, HOUR, key, T0 } from './verdicts.ts';

const options = { allowTtlMs: 24 * HOUR, denyTtlMs: HOUR, memoryEntries: 100 };

describe('verdict cache forgetDigest (memory → Redis)', () => {
  it("forgetDigest(shared) drops that digest's verdicts from memory and Redis, under every name and policy", async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const raw = await client(defer, SHARED_REDIS_URL);
    const a = createVerdictCache({ ...options, shared: sharedLayer(raw, prefix, options) });
    const b = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    const mine = [key(), key({ canonicalName: 'ghcr.io/team/app' }), key({ policyHash: 'policy-2' })];
    const other = key({ digest: D2 });
    for (const k of mine) await a.put(k, allow(), T0);
    await a.put(other, allow({ digest: D2 }), T0);
    await a.forgetDigest(D1, true);
    for (const k of mine) {
      assert.equal(await a.get(k, T0 + 1), undefined, `memory: ${k.canonicalName} ${k.policyHash}`);
      assert.equal(await b.get(k, T0 + 1), undefined, `redis: ${k.canonicalName} ${k.policyHash}`);
    }
    assert.deepEqual(await b.get(other, T0 + 1), allow({ digest: D2 }), 'the other digest still hits in Redis');
    assert.deepEqual(await a.get(other, T0 + 1), allow({ digest: D2 }), 'and in memory');
    assert.deepEqual(
      (await raw.keys(`${prefix}*`)).sort(),
      [`${prefix}verdict:${verdictId(other)}`, `${prefix}verdicts-by-digest:${D2}`].sort(),
    );
  });

  it('forgetDigest without shared leaves Redis alone', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'verdict');
    const a = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    const b = createVerdictCache({ ...options, shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options) });
    await a.put(key(), allow(), T0);
    assert.ok(await b.get(key(), T0 + 1)); // now in b's memory too
    await b.forgetDigest(D1, false);
    const lookups: [VerdictLayerName, boolean][] = [];
    const c = createVerdictCache({
      ...options,
      shared: sharedLayer(await client(defer, SHARED_REDIS_URL), prefix, options),
      onLookup: (l, h) => lookups.push([l, h]),
    });
    assert.ok(await b.get(key(), T0 + 2), 'b reads it back from Redis');
    assert.ok(await c.get(key(), T0 + 2));
    assert.deepEqual(lookups, [
      ['memory', false],
      ['redis', true],
    ]);
  });
});
