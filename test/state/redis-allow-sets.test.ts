import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedisAllowSets } from '../../src/state/redis-allow-sets.ts';
import { client, scope, SHARED_REDIS_URL, sharedPrefix } from './support/helpers.ts';
import { D1, D2, HOUR } from './verdicts.ts';

const B1 = `sha256:${'b'.repeat(64)}` as const;
const B2 = `sha256:${'c'.repeat(64)}` as const;
const NAME = 'docker.io/library/app';

describe('allow sets (Redis)', () => {
  it('are shared: blobs and children recorded on one replica are seen on another', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'allow');
    const a = createRedisAllowSets({ redis: await client(defer, SHARED_REDIS_URL), prefix });
    const b = createRedisAllowSets({ redis: await client(defer, SHARED_REDIS_URL), prefix });
    await a.recordBlobs('p:1', NAME, [B1], HOUR);
    await a.recordChildren('p:1', NAME, D2, [D1], HOUR);
    assert.equal(await b.isBlobAllowed('p:1', NAME, B1), true);
    assert.equal(await b.isBlobAllowed('p:1', NAME, B2), false);
    assert.equal(await b.isBlobAllowed('p:2', NAME, B1), false);
    assert.equal(await b.isBlobAllowed('p:1', 'docker.io/library/other', B1), false);
    assert.equal(await b.parentOf('p:1', NAME, D1), D2);
    assert.equal(await b.parentOf('p:1', NAME, D2), undefined);
  });

  it('keeps one SET and one HASH per generation and name, whose TTL only grows', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'allow');
    const raw = await client(defer, SHARED_REDIS_URL);
    const sets = createRedisAllowSets({ redis: raw, prefix });
    await sets.recordBlobs('g', NAME, [B1], HOUR);
    await sets.recordBlobs('g', NAME, [B2], 5000);
    await sets.recordChildren('g', NAME, D2, [D1], 5000);
    const keys = (await raw.keys(`${prefix}*`)).sort();
    assert.equal(keys.length, 2);
    const [blobs, children] = [keys.find((k) => k.includes(':blobs:')) ?? '', keys.find((k) => k.includes(':children:')) ?? ''];
    assert.deepEqual((await raw.smembers(blobs)).sort(), [B1, B2]);
    assert.deepEqual(await raw.hgetall(children), { [D1]: D2 });
    assert.ok((await raw.pttl(blobs)) > HOUR - 1000, 'the shorter record did not shorten the set');
    const childTtl = await raw.pttl(children);
    assert.ok(childTtl > 0 && childTtl <= 5000);
  });
});
