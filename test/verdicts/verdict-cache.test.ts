import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVerdictCache, type VerdictLayerName } from '../../src/verdicts/verdict-cache.ts';
import { allow, D1, D2, deny, HOUR, key, T0 } from './verdicts.ts';

const options = { allowTtlMs: 24 * HOUR, denyTtlMs: 60_000, memoryEntries: 100 };

describe('verdict cache (memory)', () => {
  it('returns what was put, for the same key', async () => {
    const cache = createVerdictCache(options);
    assert.equal(await cache.get(key(), T0), undefined);
    await cache.put(key(), allow(), T0);
    assert.deepEqual(await cache.get(key(), T0 + 1), allow());
  });

  it('is keyed by name, policy and trust version, never by the digest alone', async () => {
    const cache = createVerdictCache(options);
    await cache.put(key(), allow(), T0);
    assert.equal(await cache.get(key({ canonicalName: 'docker.io/evil/app' }), T0), undefined, 'same digest, other repository');
    assert.equal(await cache.get(key({ canonicalName: 'ghcr.io/library/app' }), T0), undefined, 'same repository, other upstream');
    assert.equal(await cache.get(key({ policyHash: 'policy-2' }), T0), undefined);
    assert.equal(await cache.get(key({ trustVersion: 8 }), T0), undefined);
    assert.equal(await cache.get(key({ digest: D2 }), T0), undefined);
  });

  describe('time to live, on the caller clock', () => {
    it('an allow expires at its notAfter even when allowTtlMs is much longer', async () => {
      const cache = createVerdictCache(options);
      await cache.put(key(), allow({ notAfter: T0 + 1000 }), T0);
      assert.ok(await cache.get(key(), T0 + 999));
      assert.equal(await cache.get(key(), T0 + 1000), undefined);
    });

    it('an allow without notAfter lasts allowTtlMs', async () => {
      const cache = createVerdictCache(options);
      await cache.put(key(), allow(), T0);
      assert.ok(await cache.get(key(), T0 + 24 * HOUR - 1));
      assert.equal(await cache.get(key(), T0 + 24 * HOUR), undefined);
    });

    it('a deny lasts denyTtlMs, whatever its notAfter', async () => {
      const cache = createVerdictCache(options);
      await cache.put(key(), deny({ notAfter: T0 + 10 }), T0);
      assert.ok(await cache.get(key(), T0 + 59_999));
      assert.equal(await cache.get(key(), T0 + 60_000), undefined);
    });

    it('a warn (allowed in warn mode) is kept like an allow, up to its notAfter', async () => {
      const cache = createVerdictCache(options);
      await cache.put(key(), allow({ outcome: 'warn', notAfter: T0 + 5000 }), T0);
      assert.ok(await cache.get(key(), T0 + 4999));
      assert.equal(await cache.get(key(), T0 + 5000), undefined);
    });

    it('never keeps an allow whose notAfter has passed, nor a deny when denyTtlMs is 0', async () => {
      const cache = createVerdictCache({ ...options, denyTtlMs: 0 });
      await cache.put(key(), allow({ notAfter: T0 }), T0);
      assert.equal(await cache.get(key(), T0 - 1), undefined);
      await cache.put(key({ digest: D2 }), deny({ digest: D2 }), T0);
      assert.equal(await cache.get(key({ digest: D2 }), T0), undefined);
    });
  });

  it('does not answer with a verdict for another digest', async () => {
    const cache = createVerdictCache(options);
    await cache.put(key(), allow({ digest: D2 }), T0);
    assert.equal(await cache.get(key(), T0), undefined);
  });

  it('holds at most memoryEntries, dropping the least recently used', async () => {
    const cache = createVerdictCache({ ...options, memoryEntries: 2 });
    for (const v of [1, 2, 3]) await cache.put(key({ trustVersion: v }), allow(), T0);
    assert.equal(await cache.get(key({ trustVersion: 1 }), T0), undefined);
    assert.ok(await cache.get(key({ trustVersion: 3 }), T0));
  });

  it('clearLocal drops everything', async () => {
    const cache = createVerdictCache(options);
    await cache.put(key(), allow(), T0);
    cache.clearLocal();
    assert.equal(await cache.get(key(), T0), undefined);
  });

  it('forgetDigest drops that digest under every name and policy, and nothing else', async () => {
    const cache = createVerdictCache(options);
    const other = key({ digest: D2 });
    await cache.put(key(), allow(), T0);
    await cache.put(key({ canonicalName: 'ghcr.io/team/app' }), deny(), T0);
    await cache.put(key({ policyHash: 'policy-2' }), allow(), T0);
    await cache.put(other, allow({ digest: D2 }), T0);
    await cache.forgetDigest(D1, true); // no Redis: shared is a no-op beyond memory
    assert.equal(await cache.get(key(), T0), undefined);
    assert.equal(await cache.get(key({ canonicalName: 'ghcr.io/team/app' }), T0), undefined);
    assert.equal(await cache.get(key({ policyHash: 'policy-2' }), T0), undefined);
    assert.deepEqual(await cache.get(other, T0), allow({ digest: D2 }));
    await cache.forgetDigest(D2, false);
    assert.equal(await cache.get(other, T0), undefined);
  });

  it('reports each lookup by layer', async () => {
    const lookups: [VerdictLayerName, boolean][] = [];
    const cache = createVerdictCache({ ...options, onLookup: (layer, hit) => lookups.push([layer, hit]) });
    await cache.get(key(), T0);
    await cache.put(key(), allow(), T0);
    await cache.get(key(), T0);
    assert.deepEqual(lookups, [
      ['memory', false],
      ['memory', true],
    ]);
  });

  it('refuses bad options up front', () => {
    assert.throws(() => createVerdictCache({ ...options, allowTtlMs: 0 }), /allowTtlMs/);
    assert.throws(() => createVerdictCache({ ...options, denyTtlMs: -1 }), /denyTtlMs/);
    assert.throws(() => createVerdictCache({ ...options, memoryEntries: 1.5 }), /memoryEntries/);
  });
});
