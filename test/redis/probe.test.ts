import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectRedis, createRedis, type RedisClient } from '../../src/redis/connection.ts';
import { createRedisProbe } from '../../src/redis/probe.ts';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.ts';

let server: OwnRedis;
let redis: RedisClient;
let admin: RedisClient;

/** PINGs the server has answered, from its own command stats. */
async function pings(): Promise<number> {
  const stats = (await admin.info('commandstats')) as string;
  return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

before(async () => {
  server = await startOwnRedis();
  redis = createRedis(`redis://127.0.0.1:${server.port}`);
  admin = createRedis(`redis://127.0.0.1:${server.port}`);
  await Promise.all([connectRedis(redis), connectRedis(admin)]);
});
after(async () => {
  server.resume();
  redis.disconnect();
  admin.disconnect();
  await server.stop();
});

describe('the Redis health probe', () => {
  it('a flood of probes within the cache time sends one PING', async () => {
    const probe = createRedisProbe(redis, { cacheMs: 60_000 });
    const before = await pings();
    const answers = await Promise.all(Array.from({ length: 50 }, () => probe()));
    for (let i = 0; i < 20; i++) answers.push(await probe());
    assert.ok(answers.every((a) => a === 'up'));
    assert.equal((await pings()) - before, 1);
  });

  it('asks again once the cached answer is older than cacheMs', async () => {
    let clock = 0;
    const probe = createRedisProbe(redis, { cacheMs: 1000, now: () => clock });
    const before = await pings();
    await probe();
    clock = 999;
    await probe();
    clock = 1000;
    await probe();
    assert.equal((await pings()) - before, 2);
  });

  it('a hung Redis › "down" within the PING timeout; a connection that is not ready › "down" at once', async () => {
    const probe = createRedisProbe(redis, { timeoutMs: 200, cacheMs: 0 });
    server.pause();
    const started = performance.now();
    assert.equal(await probe(), 'down');
    assert.ok(performance.now() - started < 1000);
    server.resume();
    const closed = createRedis(`redis://127.0.0.1:${server.port}`); // never connected: status "wait"
    assert.equal(await createRedisProbe(closed)(), 'down');
    closed.disconnect();
  });
});
