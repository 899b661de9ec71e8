import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryTrustStore } from '../../src/trust-store/memory-trust-store.ts';
import { activeEntries } from '../../src/trust/trust-snapshot.ts';
import type { TrustSnapshot } from '../../src/trust/types.ts';
import { entry, T0 } from '../trust/entries.ts';

describe('memory trust store', () => {
  it('bumps the version on every change and on nothing else', async () => {
    const store = createMemoryTrustStore();
    assert.equal(store.snapshot().version, 0);
    assert.equal((await store.upsert([entry('a'), entry('b')])).version, 1);
    assert.equal((await store.upsert([entry('a'), entry('b')])).version, 1, 'the same entries again change nothing');
    assert.equal((await store.upsert([entry('a', { scopes: ['ghcr.io/**'] })])).version, 2);
    assert.equal((await store.revoke('b', 'leaked', T0)).version, 3);
    assert.equal((await store.revoke('b', 'again', T0 + 1)).version, 3, 'a second revoke changes nothing');
    assert.deepEqual(
      store.snapshot().entries.map((e) => e.id),
      ['a', 'b'],
    );
  });

  describe('when an id is revoked', () => {
    it('stays revoked through an upsert, and the entry stays as it was', async () => {
      const store = createMemoryTrustStore({ entries: [entry('k')] });
      await store.revoke('k', 'compromised', T0);
      const after = await store.upsert([entry('k', { pem: 'new material' })]);
      assert.deepEqual(after.revocations, [{ id: 'k', revokedAt: T0, reason: 'compromised' }]);
      assert.equal(after.entries[0]?.pem, entry('k').pem);
      assert.deepEqual(activeEntries(after, T0), []);
    });

    it('keeps the first tombstone', async () => {
      const store = createMemoryTrustStore();
      await store.revoke('k', 'first', T0);
      await store.revoke('k', 'second', T0 + 5);
      assert.deepEqual(store.snapshot().revocations, [{ id: 'k', revokedAt: T0, reason: 'first' }]);
    });

    it('can be revoked before it is ever added, and then is never active', async () => {
      const store = createMemoryTrustStore();
      await store.revoke('future', 'never trust', T0);
      await store.upsert([entry('future')]);
      assert.deepEqual(store.snapshot().entries, []);
      assert.deepEqual(activeEntries(store.snapshot(), T0), []);
    });
  });

  it('calls listeners with each new snapshot until they unsubscribe', async () => {
    const store = createMemoryTrustStore();
    const seen: number[] = [];
    const off = store.onChange((s) => seen.push(s.version));
    store.onChange(() => {
      throw new Error('a broken listener does not stop the others');
    });
    await store.upsert([entry('a')]);
    await store.upsert([entry('a')]);
    await store.revoke('a', 'r', T0);
    off();
    await store.upsert([entry('b')]);
    assert.deepEqual(seen, [1, 2]);
  });

  it('refuses a malformed entry without applying any of the batch', async () => {
    const store = createMemoryTrustStore();
    await assert.rejects(store.upsert([entry('good'), entry('bad', { purposes: ['root' as 'sign'] })]), TypeError);
    assert.equal(store.snapshot().version, 0);
    assert.deepEqual(store.snapshot().entries, []);
  });

  it('hands out frozen snapshots', async () => {
    const store = createMemoryTrustStore({ entries: [entry('a')] });
    const snapshot: TrustSnapshot = store.snapshot();
    assert.ok(Object.isFrozen(snapshot) && Object.isFrozen(snapshot.entries) && Object.isFrozen(snapshot.entries[0]));
  });

  it('rejects writes after close', async () => {
    const store = createMemoryTrustStore();
    await store.close();
    await assert.rejects(store.revoke('a', 'r', T0), /closed/);
  });
});

describe('activeEntries', () => {
  it('leaves out revoked entries and entries outside their validity window', () => {
    const store = createMemoryTrustStore({
      entries: [entry('ok'), entry('early', { notBefore: T0 + 10 }), entry('late', { notAfter: T0 }), entry('gone')],
      revocations: [{ id: 'gone', revokedAt: T0 - 1, reason: 'r' }],
    });
    assert.deepEqual(
      activeEntries(store.snapshot(), T0).map((e) => e.id),
      ['ok'],
    );
    assert.deepEqual(
      activeEntries(store.snapshot(), T0 - 1).map((e) => e.id),
      ['late', 'ok'],
    );
  });
});
