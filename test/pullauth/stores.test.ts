import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { noopLogger } from '../../src/log/logger.ts';
import { createMemoryLoginLimiter, createRedisLoginLimiter } from '../../src/pullauth/login-limiter.ts';
import { createMemoryRobotStore, createRedisRobotStore, type RobotRecord, type RobotStore } from '../../src/pullauth/robots.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

const prefix = testPrefix('pullauth-stores');
const redis = new Redis(REDIS_URL);
after(async () => {
  redis.disconnect();
  await deleteRedisKeys(prefix);
});

const robot = (name: string, createdAt = 1): RobotRecord => ({ name, salt: 'c2FsdA==', hash: 'aGFzaA==', repositories: ['reg/team/**'], createdAt });

for (const [kind, make] of [
  ['memory', () => createMemoryRobotStore()],
  ['redis', () => createRedisRobotStore(redis, `${prefix}${Math.random().toString(36).slice(2)}:`)],
] as const) {
  describe(`robot store (${kind})`, () => {
    const store: RobotStore = make();
    it('create, get, list', async () => {
      assert.equal(await store.create(robot('ci')), true);
      assert.deepEqual(await store.get('ci'), robot('ci'));
      assert.deepEqual(await store.list(), [robot('ci')]);
      assert.equal(await store.get('nobody'), undefined);
    });
    it('an active name cannot be created twice', async () => {
      assert.equal(await store.create(robot('ci', 2)), false);
      assert.equal((await store.get('ci'))?.createdAt, 1);
    });
    it('revoke once; then the name may be given out again', async () => {
      assert.equal(await store.revoke('ci', 5), true);
      assert.equal((await store.get('ci'))?.revokedAt, 5);
      assert.equal(await store.revoke('ci', 6), false);
      assert.equal(await store.revoke('nobody', 6), false);
      assert.equal(await store.create(robot('ci', 7)), true);
      assert.equal((await store.get('ci'))?.revokedAt, undefined);
    });
  });
}

describe('robot store (redis): what is stored', () => {
  it('JSON in the hash <prefix>robots; a malformed record is no robot (fail closed)', async () => {
    const p = `${prefix}shape:`;
    const store = createRedisRobotStore(redis, p);
    await store.create(robot('ci'));
    assert.deepEqual(JSON.parse((await redis.hget(`${p}robots`, 'ci'))!), robot('ci'));
    await redis.hset(`${p}robots`, 'broken', '{"name":"broken","salt":1}');
    assert.equal(await store.get('broken'), undefined);
    assert.deepEqual((await store.list()).map((r) => r.name), ['ci']);
    assert.equal(await store.create(robot('broken')), false, 'an unreadable record is not overwritten as if revoked');
  });
});

describe('failed-login limiter', () => {
  it('memory: blocks a key after maxFailures within the window, until the window ends', async () => {
    let clock = 0;
    const limiter = createMemoryLoginLimiter({ maxFailures: 2, windowMs: 1000, now: () => clock });
    await limiter.failed(['a', 'b']);
    assert.equal(await limiter.blockedFor(['a']), 0);
    clock = 400;
    await limiter.failed(['a']);
    assert.equal(await limiter.blockedFor(['a']), 600);
    assert.equal(await limiter.blockedFor(['b']), 0);
    assert.equal(await limiter.blockedFor(['b', 'a']), 600);
    clock = 1000;
    assert.equal(await limiter.blockedFor(['a']), 0);
  });
  it('memory: a flood of fresh keys stays bounded', async () => {
    const limiter = createMemoryLoginLimiter({ maxFailures: 1, windowMs: 60_000, now: () => 0, maxKeys: 100 });
    for (let i = 0; i < 1000; i += 1) await limiter.failed([`k${i}`]);
    assert.ok((await limiter.blockedFor(['k999'])) > 0);
    assert.equal(await limiter.blockedFor(['k0']), 0);
  });
  it('redis: INCR with a PEXPIRE on the window; the wait is the key\'s remaining TTL', async () => {
    const limiter = createRedisLoginLimiter(redis, prefix, { maxFailures: 2, windowMs: 30_000, now: Date.now, logger: noopLogger });
    await limiter.failed(['address:10.0.0.1']);
    await limiter.failed(['address:10.0.0.1']);
    const key = `${prefix}login-failures:address:10.0.0.1`;
    assert.equal(await redis.get(key), '2');
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 25_000 && ttl <= 30_000, String(ttl));
    const wait = await limiter.blockedFor(['address:10.0.0.2', 'address:10.0.0.1']);
    assert.ok(wait > 25_000 && wait <= 30_000, String(wait));
  });
  it('redis down: counts in this replica instead of not at all', async () => {
    const dead = new Redis({ port: 9, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => {});
    const limiter = createRedisLoginLimiter(dead, prefix, { maxFailures: 1, windowMs: 30_000, now: Date.now, logger: noopLogger });
    await limiter.failed(['identity:x']);
    assert.ok((await limiter.blockedFor(['identity:x'])) > 0);
    dead.disconnect();
  });
});
