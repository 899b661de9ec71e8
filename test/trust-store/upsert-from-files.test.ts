import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryTrustStore } from '../../src/trust-store/memory-trust-store.ts';
import type { TrustStore } from '../../src/trust/types.ts';
import { client, recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { entry, T0 } from '../trust/entries.ts';
import { openStore } from './redis-store-kit.ts';

type Open = (t: import('node:test').TestContext, logger: ReturnType<typeof recordingLogger>) => Promise<TrustStore>;

const kinds: Record<string, Open> = {
  memory: async (_t, logger) => createMemoryTrustStore({}, { logger }),
  redis: async (t, logger) => {
    const defer = scope(t);
    return openStore(defer, SHARED_REDIS_URL, await sharedPrefix(defer, 'trust-files'), { logger });
  },
};

for (const [kind, open] of Object.entries(kinds)) {
  describe(`${kind} trust store › upsertFromFiles (keys/ on start and reload)`, () => {
    it('adds and updates file entries like upsert, bumping only on a change', async (t) => {
      const store = await open(t, recordingLogger());
      const v0 = store.snapshot().version;
      assert.equal((await store.upsertFromFiles([entry('a'), entry('b')])).version, v0 + 1);
      assert.equal((await store.upsertFromFiles([entry('a'), entry('b')])).version, v0 + 1);
      const changed = await store.upsertFromFiles([entry('a', { scopes: ['ghcr.io/**'] })]);
      assert.deepEqual(changed.entries.find((e) => e.id === 'a')?.scopes, ['ghcr.io/**']);
    });

    it('when an entry was created or changed through the API › keys/ does not overwrite it, and says so in the log', async (t) => {
      const logger = recordingLogger();
      const store = await open(t, logger);
      await store.upsertFromFiles([entry('k'), entry('other')]);
      const api = entry('k', { scopes: ['docker.io/team/**'], notAfter: T0, origin: 'api' });
      const before = await store.upsert([api]);
      const after = await store.upsertFromFiles([entry('k'), entry('other', { scopes: ['quay.io/**'] })]);
      assert.deepEqual(
        after.entries.find((e) => e.id === 'k'),
        api,
      );
      assert.deepEqual(after.entries.find((e) => e.id === 'other')?.scopes, ['quay.io/**'], 'other file entries still update');
      assert.equal(after.version, before.version + 1);
      assert.equal((await store.upsertFromFiles([entry('k')])).version, after.version, 'an ignored entry is no change');
      assert.match(logger.text(), /keys\/ entries ignored.*admin API/);
      assert.match(logger.text(), /"ids":\["k"\]/);
    });

    it('revocations win over both', async (t) => {
      const store = await open(t, recordingLogger());
      await store.upsert([entry('k', { origin: 'api' })]);
      await store.revoke('k', 'leaked', T0);
      const after = await store.upsertFromFiles([entry('k', { pem: 'other' })]);
      assert.equal(after.entries.find((e) => e.id === 'k')?.pem, entry('k').pem);
      assert.deepEqual(
        after.revocations.map((r) => r.id),
        ['k'],
      );
    });

    it('refuses entries that do not come from keys/ (a programming error)', async (t) => {
      const store = await open(t, recordingLogger());
      await assert.rejects(store.upsertFromFiles([entry('a', { origin: 'api' })]), TypeError);
    });

    it('the plain upsert still replaces an API entry (the API itself uses it)', async (t) => {
      const store = await open(t, recordingLogger());
      await store.upsert([entry('k', { origin: 'api' })]);
      const after = await store.upsert([entry('k', { origin: 'api', scopes: ['ghcr.io/**'] })]);
      assert.deepEqual(after.entries[0]?.scopes, ['ghcr.io/**']);
    });
  });
}

describe('redis trust store › upsertFromFiles', () => {
  it('a replica started later with keys/ leaves the API entry in Redis as it was', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'trust-files');
    const a = await openStore(defer, SHARED_REDIS_URL, prefix);
    await a.upsert([entry('k', { origin: 'api', scopes: ['docker.io/team/**'] })]);
    const b = await openStore(defer, SHARED_REDIS_URL, prefix);
    await b.upsertFromFiles([entry('k')]);
    const raw = await client(defer, SHARED_REDIS_URL);
    const stored = JSON.parse((await raw.hget(`${prefix}trust:entries`, 'k')) ?? '{}');
    assert.equal(stored.origin, 'api');
    assert.deepEqual(stored.scopes, ['docker.io/team/**']);
  });

  it('an unreadable stored entry is repaired from keys/', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'trust-files');
    const raw = await client(defer, SHARED_REDIS_URL);
    await raw.hset(`${prefix}trust:entries`, 'k', 'not json "origin":"api"');
    const store = await openStore(defer, SHARED_REDIS_URL, prefix);
    const after = await store.upsertFromFiles([entry('k')]);
    assert.deepEqual(
      after.entries.map((e) => e.id),
      ['k'],
    );
  });
});
