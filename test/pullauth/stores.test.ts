import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { noopLogger } from '../../src/log/logger.ts';
import {
  createMemoryLoginLimiter,
  createRedisLoginLimiter,
  IN_FLIGHT_RETRY_MS,
  type LoginLimiter,
} from '../../src/pullauth/login-limiter.ts';
import { createMemoryRobotStore, createRedisRobotStore, type RobotRecord, type RobotStore } from '../../src/pullauth/robots.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

const prefix = testPrefix('pullauth-stores');
const redis = new Redis(REDIS_URL);
after(async () => {
  redis.disconnect();
  await deleteRedisKeys(prefix);
});

const robot = (name: string, createdAt = 1): RobotRecord => ({
  name,
  salt: 'c2FsdA==',
  hash: 'aGFzaA==',
  repositories: ['reg/team/**'],
  createdAt,
});

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
    assert.deepEqual(
      (await store.list()).map((r) => r.name),
      ['ci'],
    );
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
  it("redis: INCR with a PEXPIRE on the window; the wait is the key's remaining TTL", async () => {
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
  it('redis down: attempts are taken in this replica instead of not at all', async () => {
    const dead = new Redis({ port: 9, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => {});
    const limiter = createRedisLoginLimiter(dead, prefix, { maxFailures: 2, windowMs: 30_000, now: Date.now, logger: noopLogger });
    const taken = await Promise.all([1, 2, 3].map(() => limiter.attempt(['identity:y'])));
    assert.deepEqual(
      taken.map((a) => a.waitMs > 0),
      [false, false, true],
    );
    dead.disconnect();
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

// attempt(): the limit test and the count are one step, so concurrent logins cannot overshoot it.
for (const [kind, make] of [
  ['memory', (max: number, windowMs: number, now: () => number) => createMemoryLoginLimiter({ maxFailures: max, windowMs, now })],
  [
    'redis',
    (max: number, windowMs: number, now: () => number) =>
      createRedisLoginLimiter(redis, `${prefix}${Math.random().toString(36).slice(2)}:`, {
        maxFailures: max,
        windowMs,
        now,
        logger: noopLogger,
      }),
  ],
] as const) {
  describe(`failed-login limiter: attempts (${kind})`, () => {
    it('100 attempts at once on one key: 10 taken, 90 refused while the 10 are checked (wait 1 s), the window once they fail', async () => {
      const limiter: LoginLimiter = make(10, 60_000, Date.now);
      const attempts = await Promise.all(Array.from({ length: 100 }, () => limiter.attempt(['identity:x', 'address:a'])));
      const taken = attempts.filter((a) => a.waitMs === 0);
      assert.equal(taken.length, 10);
      assert.ok(
        attempts.filter((a) => a.waitMs > 0).every((a) => a.waitMs === IN_FLIGHT_RETRY_MS),
        'refused while the taken ones are still being checked',
      );
      await Promise.all(taken.map((a) => a.confirm()));
      const after = await limiter.attempt(['identity:x']);
      assert.ok(after.waitMs > 55_000 && after.waitMs <= 60_000, String(after.waitMs));
      assert.ok((await limiter.blockedFor(['address:a'])) > 55_000, 'the address is at its limit too');
      assert.equal((await limiter.attempt(['identity:other', 'address:b'])).waitMs, 0, 'other keys are not touched');
    });
    it('a refunded attempt (a success) is not a failure; confirm and refund act once', async () => {
      const limiter: LoginLimiter = make(3, 60_000, Date.now);
      for (let i = 0; i < 2; i += 1) await (await limiter.attempt(['k'])).confirm();
      for (let i = 0; i < 5; i += 1) {
        const ok = await limiter.attempt(['k']);
        assert.equal(ok.waitMs, 0, `success ${i + 1}`);
        await ok.refund();
        await ok.refund();
        await ok.confirm();
      }
      const last = await limiter.attempt(['k']);
      assert.equal(last.waitMs, 0);
      await last.confirm();
      assert.ok((await limiter.attempt(['k'])).waitMs > 55_000);
    });
    it('a key at the limit refuses without taking anything from the other keys', async () => {
      const limiter: LoginLimiter = make(1, 60_000, Date.now);
      await (await limiter.attempt(['identity:z'])).confirm();
      assert.ok((await limiter.attempt(['identity:z', 'address:c'])).waitMs > 0);
      assert.equal(await limiter.blockedFor(['address:c']), 0);
      assert.equal((await limiter.attempt(['address:c'])).waitMs, 0);
    });
  });
}

describe('failed-login limiter: attempts (redis) › what is stored', () => {
  it('the count in <prefix>login-failures:<key> includes attempts being checked, which <prefix>login-pending:<key> also holds', async () => {
    const p = `${prefix}stored:`;
    const limiter = createRedisLoginLimiter(redis, p, { maxFailures: 5, windowMs: 30_000, now: Date.now, logger: noopLogger });
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => limiter.attempt(['address:10.0.0.9'])));
    assert.equal(await redis.get(`${p}login-failures:address:10.0.0.9`), '3');
    assert.equal(await redis.get(`${p}login-pending:address:10.0.0.9`), '3');
    await a!.confirm();
    await b!.refund();
    assert.equal(await redis.get(`${p}login-failures:address:10.0.0.9`), '2');
    assert.equal(await redis.get(`${p}login-pending:address:10.0.0.9`), '1');
    await c!.confirm();
    assert.equal(await redis.get(`${p}login-failures:address:10.0.0.9`), '2');
    assert.equal(await redis.get(`${p}login-pending:address:10.0.0.9`), '0');
    const ttl = await redis.pttl(`${p}login-failures:address:10.0.0.9`);
    assert.ok(ttl > 25_000 && ttl <= 30_000, String(ttl));
  });
});
