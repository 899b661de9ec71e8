import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedisAllowSets } from '../../src/verdicts/redis-allow-sets.ts';
import type { Allowance } from '../../src/verdicts/types.ts';
import { client, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { D1, D2, HOUR } from './verdicts.ts';

const B1 = `sha256:${'b'.repeat(64)}` as const;
const B2 = `sha256:${'c'.repeat(64)}` as const;
const NAME = 'docker.io/library/app';
const anyLive = async (): Promise<boolean> => true;
const liveOnly =
  (source: string) =>
  async (a: Allowance): Promise<boolean> =>
    a.source === source;

describe('allow sets (Redis)', () => {
  it('are shared: blobs and children granted on one replica are seen on another, with their source', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'allow');
    const a = createRedisAllowSets({ redis: await client(defer, SHARED_REDIS_URL), prefix });
    const b = createRedisAllowSets({ redis: await client(defer, SHARED_REDIS_URL), prefix });
    const at = Date.now() + HOUR;
    await a.grantBlobs('p:1', NAME, [{ digest: B1 }, { digest: B2, format: 'application/jose+json', size: 7 }], {
      source: 'verdict:v',
      expiresAt: at,
    });
    await a.grantChildren('p:1', NAME, D2, [D1], { source: 'verdict:i', expiresAt: at });
    assert.equal((await b.blobAllowance('p:1', NAME, B1, anyLive))?.source, 'verdict:v');
    assert.deepEqual(await b.blobAllowance('p:1', NAME, B2, anyLive), {
      source: 'verdict:v',
      expiresAt: Math.ceil(at),
      format: 'application/jose+json',
      size: 7,
    });
    assert.equal(await b.blobAllowance('p:1', NAME, B1, liveOnly('verdict:other')), undefined, 'a source that ended grants nothing');
    assert.equal(await b.blobAllowance('p:2', NAME, B1, anyLive), undefined);
    assert.equal(await b.blobAllowance('p:1', 'docker.io/library/other', B1, anyLive), undefined);
    assert.equal((await b.childAllowance('p:1', NAME, D1, anyLive))?.index, D2);
    assert.equal(await b.childAllowance('p:1', NAME, D2, anyLive), undefined);
  });

  it('keeps one HASH per digest with one field per source, whose TTL only grows, under the allow2: names', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'allow');
    const raw = await client(defer, SHARED_REDIS_URL);
    const sets = createRedisAllowSets({ redis: raw, prefix });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'verdict:long', expiresAt: Date.now() + HOUR });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'breakglass:short', expiresAt: Date.now() + 5000 });
    const keys = await raw.keys(`${prefix}*`);
    assert.equal(keys.length, 1);
    assert.match(keys[0]!, /allow2:blob:[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(await raw.hgetall(keys[0]!)).sort(), ['breakglass:short', 'verdict:long']);
    assert.ok((await raw.pttl(keys[0]!)) > HOUR - 1000, 'the shorter grant did not shorten the key');
  });

  it('a flood of checked grants never pushes out the verdict that streams the blob', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'allow');
    const sets = createRedisAllowSets({ redis: await client(defer, SHARED_REDIS_URL), prefix });
    const other = createRedisAllowSets({ redis: await client(defer, SHARED_REDIS_URL), prefix });
    await sets.grantBlobs('g', NAME, [{ digest: B1 }], { source: 'verdict:v', expiresAt: Date.now() + 5000 });
    for (let i = 0; i < 40; i += 1)
      await sets.grantBlobs('g', NAME, [{ digest: B1, format: 'application/jose+json', size: 1 }], {
        source: `artifact:${i}`,
        expiresAt: Date.now() + HOUR,
      });
    assert.equal((await other.blobAllowance('g', NAME, B1, anyLive))?.source, 'verdict:v');
  });

  it('ignores the unversioned allow: sets an older release wrote (they carry no provenance)', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'allow');
    const raw = await client(defer, SHARED_REDIS_URL);
    const { createHash } = await import('node:crypto');
    await raw.sadd(
      `${prefix}allow:blobs:${createHash('sha256')
        .update(JSON.stringify(['g', NAME]))
        .digest('hex')}`,
      B1,
    );
    const sets = createRedisAllowSets({ redis: raw, prefix });
    assert.equal(await sets.blobAllowance('g', NAME, B1, anyLive), undefined);
  });
});
