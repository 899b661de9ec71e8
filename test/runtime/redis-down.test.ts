import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyRuleName, type Decision } from '../../src/decision/decision.ts';
import { createRedisAllowSets } from '../../src/verdicts/redis-allow-sets.ts';
import { createVerdictCache } from '../../src/verdicts/verdict-cache.ts';
import type { VerdictKey } from '../../src/verdicts/types.ts';
import { entry, T0 } from '../trust/entries.ts';
import { openStore } from '../trust-store/redis-store-kit.ts';
import { client, eventually, recordingLogger, scope, within } from '../support/helpers.ts';
import { startOwnRedis } from '../support/own-redis.ts';
import { sharedLayer } from '../verdicts/verdict-layer.ts';

const D1 = `sha256:${'1'.repeat(64)}` as const;
const D2 = `sha256:${'2'.repeat(64)}` as const;
const B1 = `sha256:${'b'.repeat(64)}` as const;
const B2 = `sha256:${'c'.repeat(64)}` as const;
const KEY: VerdictKey = {
  canonicalName: 'docker.io/library/app',
  digest: D1,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  policyHash: 'p1',
  trustVersion: 7,
  identity: undefined,
};
const ALLOW: Decision = { outcome: 'allow', rule: policyRuleName('r'), reasons: [], signers: ['k'], digest: D1, notAfter: undefined };
const LONG = 3_600_000;
const FAST = 2000; // every call must come back within this while Redis is down

describe('when Redis goes down', () => {
  it('serves the last trust snapshot, misses verdicts, falls back to local allow records, and never throws or hangs', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const url = `redis://127.0.0.1:${server.port}`;
    const logger = recordingLogger();
    const store = await openStore(defer, url, 'tg:', { logger });
    await store.upsert([entry('k')]);
    const snapshot = await store.revoke('k', 'r', T0);

    const mine = { client: await client(defer, url), prefix: 'tg:' };
    const theirs = { client: await client(defer, url), prefix: 'tg:' };
    const options = { allowTtlMs: LONG, denyTtlMs: LONG, memoryEntries: 100, logger };
    const verdicts = createVerdictCache({ ...options, shared: sharedLayer(mine.client, mine.prefix, options, logger) });
    const other = createVerdictCache({ ...options, shared: sharedLayer(theirs.client, theirs.prefix, options, logger) });
    await other.put(KEY, ALLOW, T0); // in Redis, not in this replica's memory
    await verdicts.put({ ...KEY, digest: D2 }, { ...ALLOW, digest: D2 }, T0);
    const allowSets = createRedisAllowSets({ redis: mine.client, prefix: 'tg:', logger });
    const otherSets = createRedisAllowSets({ redis: theirs.client, prefix: 'tg:', logger });
    const grant = { source: 'verdict:v', expiresAt: Date.now() + LONG };
    const live = async (): Promise<boolean> => true;
    await allowSets.grantBlobs('g', 'docker.io/library/app', [{ digest: B1 }], grant);
    await allowSets.grantChildren('g', 'docker.io/library/app', D2, [D1], grant);
    await otherSets.grantBlobs('g', 'docker.io/library/app', [{ digest: B2 }], grant);
    assert.ok(await allowSets.blobAllowance('g', 'docker.io/library/app', B2, live), 'shared while Redis is up');
    assert.ok(await verdicts.get(KEY, T0), 'shared while Redis is up');
    verdicts.clearLocal();
    await verdicts.put({ ...KEY, digest: D2 }, { ...ALLOW, digest: D2 }, T0);

    await server.kill();
    await eventually(() => mine.client.status !== 'ready', 2000, 'the client notices');

    assert.equal(store.snapshot(), snapshot, 'fail static: the same snapshot');
    assert.equal(await within(FAST, verdicts.get(KEY, T0)), undefined, 'a verdict only Redis had is a miss');
    assert.deepEqual(await within(FAST, verdicts.get({ ...KEY, digest: D2 }, T0)), { ...ALLOW, digest: D2 }, 'memory still answers');
    await within(FAST, verdicts.put(KEY, ALLOW, T0)); // logged, not thrown
    await within(FAST, verdicts.forgetDigest(D1, true)); // logged, not thrown
    assert.ok(await within(FAST, allowSets.blobAllowance('g', 'docker.io/library/app', B1, live)), 'granted by this replica');
    assert.equal(await within(FAST, allowSets.blobAllowance('g', 'docker.io/library/app', B2, live)), undefined, 'fail closed');
    assert.equal((await within(FAST, allowSets.childAllowance('g', 'docker.io/library/app', D1, live)))?.index, D2);
    assert.equal(await within(FAST, otherSets.childAllowance('g', 'docker.io/library/app', D1, live)), undefined);
    await within(FAST, allowSets.grantBlobs('g', 'docker.io/library/app', [{ digest: B2 }], grant));
    await within(FAST, assert.rejects(store.upsert([entry('n')]), /trust store unavailable, upsert was not applied/));
    await within(FAST, assert.rejects(store.revoke('n', 'r', T0), /trust store unavailable, revoke was not applied/));
    assert.equal(store.snapshot(), snapshot);
    assert.match(logger.text(), /verdict cache write to redis failed/);
    assert.match(logger.text(), /dropping a digest's verdicts in redis failed/);

    // Back up (empty): the shared layers work again without any restart of the replica.
    await server.start();
    await eventually(
      async () => {
        await verdicts.put(KEY, ALLOW, T0);
        other.clearLocal();
        return (await other.get(KEY, T0 + 1)) !== undefined;
      },
      5000,
      'verdicts are shared again',
    );
    await eventually(() => store.snapshot().version > snapshot.version, 5000, 'the store re-seeded Redis');
    assert.deepEqual(
      store.snapshot().revocations.map((r) => r.id),
      ['k'],
    );
  });

  it('when Redis hangs (connected, silent), calls give up after the command timeout instead of hanging', async (t) => {
    const defer = scope(t);
    const server = await startOwnRedis();
    defer(() => server.stop());
    const url = `redis://127.0.0.1:${server.port}`;
    const connection = { commandTimeoutMs: 300 };
    const store = await openStore(defer, url, 'tg:', { connection });
    await store.upsert([entry('k')]);
    const redis = await client(defer, url, connection);
    const verdicts = createVerdictCache({
      allowTtlMs: LONG,
      denyTtlMs: LONG,
      memoryEntries: 10,
      shared: sharedLayer(redis, 'tg:', { allowTtlMs: LONG, denyTtlMs: LONG }),
    });
    const allowSets = createRedisAllowSets({ redis, prefix: 'tg:' });
    server.pause();
    defer(() => server.resume());
    assert.equal(await within(FAST, verdicts.get(KEY, T0)), undefined);
    await within(FAST, verdicts.put(KEY, ALLOW, T0));
    assert.equal(
      await within(
        FAST,
        allowSets.blobAllowance('g', 'n', B1, async () => true),
      ),
      undefined,
    );
    await within(FAST, assert.rejects(store.revoke('k', 'r', T0), /trust store unavailable/));
    assert.equal(store.snapshot().entries.length, 1);
  });
});
