import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { createMemoryDecisionLog, DECISIONS_PER_DIGEST, type DecisionRecord } from '../../src/gate/decision-log.ts';
import type { Digest } from '../../src/oci/reference.ts';
import type { RedisClient } from '../../src/redis/connection.ts';
import { createRedisDecisionLog } from '../../src/gate/redis-decision-log.ts';
import { configProblem } from '../support/config-problem.ts';
import { client, keysUnder, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';

// Real Redis (the shared one, a fresh prefix per test). Writes are fire and forget; a PING on the
// same connection afterwards returns once Redis has run every command sent before it.

const digestOf = (i: number): Digest => `sha256:${i.toString(16).padStart(64, '0')}` as Digest;
const record = (i: number, time = i): DecisionRecord => ({
  time,
  name: '127.0.0.1:5000/team/app',
  reference: `v${i}`,
  digest: digestOf(i),
  outcome: 'deny',
  rule: 'default',
  reasons: [{ code: 'unsigned', message: 'no signature' }],
  signers: [],
});

async function lists(raw: RedisClient, prefix: string): Promise<string[]> {
  return (await keysUnder(raw, `${prefix}decisions:`)).map((k) => k.slice(`${prefix}decisions:`.length)).sort();
}

describe('redis decision log: bounded per-digest state', () => {
  it('never holds more than maxDigests lists; the most recently pulled survive, a re-pull counts as recent', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'decisions');
    const redis = await client(defer, SHARED_REDIS_URL);
    const raw = await client(defer, SHARED_REDIS_URL);
    const log = createRedisDecisionLog({ redis, prefix, memory: createMemoryDecisionLog(), maxDigests: 5 });
    let most = 0;
    for (let i = 0; i < 40; i += 1) {
      log.record(record(i));
      await redis.ping();
      const n = (await lists(raw, prefix)).length;
      most = Math.max(most, n);
      assert.ok(n <= 5, `after ${i + 1} digests: ${n} lists`);
    }
    assert.equal(most, 5);
    assert.deepEqual(await lists(raw, prefix), [35, 36, 37, 38, 39].map(digestOf));
    assert.deepEqual(await raw.zrange(`${prefix}decisions-index`, 0, -1), [35, 36, 37, 38, 39].map(digestOf), 'the index, oldest first');

    log.record(record(35, 1000)); // pulled again: now the most recent
    log.record(record(40));
    await redis.ping();
    assert.deepEqual(await lists(raw, prefix), [35, 37, 38, 39, 40].map(digestOf), '36 was the least recently pulled');
    const { records, from } = await log.recent(digestOf(35), 50);
    assert.equal(from, 'redis');
    assert.deepEqual(
      records.map((r) => r.time),
      [1000, 35],
      'both pulls, newest first',
    );
    assert.deepEqual((await log.recent(digestOf(36), 50)).records, [], 'an evicted digest has no records in redis');
    const ttl = await raw.pttl(`${prefix}decisions:${digestOf(40)}`);
    assert.ok(ttl > 6 * 86_400_000 && ttl <= 7 * 86_400_000, `list TTL ${ttl}`);
    assert.ok((await raw.pttl(`${prefix}decisions-index`)) > 6 * 86_400_000, 'the index expires too, after the last write');
  });

  it('holds under concurrent writes from two replicas: lists and index agree, at the cap', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'decisions');
    const a = await client(defer, SHARED_REDIS_URL);
    const b = await client(defer, SHARED_REDIS_URL);
    const raw = await client(defer, SHARED_REDIS_URL);
    const logA = createRedisDecisionLog({ redis: a, prefix, memory: createMemoryDecisionLog(), maxDigests: 7 });
    const logB = createRedisDecisionLog({ redis: b, prefix, memory: createMemoryDecisionLog(), maxDigests: 7 });
    for (let i = 0; i < 150; i += 1) {
      logA.record(record(i));
      logB.record(record(i));
    }
    await Promise.all([a.ping(), b.ping()]);
    const names = await lists(raw, prefix);
    assert.equal(names.length, 7);
    assert.deepEqual((await raw.zrange(`${prefix}decisions-index`, 0, -1)).sort(), names);
    for (const name of names) assert.ok((await raw.llen(`${prefix}decisions:${name}`)) >= 1, name);
    assert.ok(
      names.every((name) => Number.parseInt(name.slice('sha256:'.length), 16) >= 130),
      `the newest digests survive: ${names}`,
    );
  });

  it('keeps DECISIONS_PER_DIGEST records per digest', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'decisions');
    const redis = await client(defer, SHARED_REDIS_URL);
    const log = createRedisDecisionLog({ redis, prefix, memory: createMemoryDecisionLog(), maxDigests: 5 });
    for (let i = 0; i < DECISIONS_PER_DIGEST + 10; i += 1) log.record({ ...record(1), time: i });
    await redis.ping();
    const { records } = await log.recent(digestOf(1), 100);
    assert.equal(records.length, DECISIONS_PER_DIGEST);
    assert.equal(records[0]?.time, DECISIONS_PER_DIGEST + 9);
  });

  it('drops index members whose list expired, so they do not count against the cap', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'decisions');
    const redis = await client(defer, SHARED_REDIS_URL);
    const raw = await client(defer, SHARED_REDIS_URL);
    const log = createRedisDecisionLog({ redis, prefix, memory: createMemoryDecisionLog(), maxDigests: 3, ttlMs: 150 });
    for (const i of [1, 2, 3]) log.record(record(i));
    await redis.ping();
    assert.equal(await raw.zcard(`${prefix}decisions-index`), 3);
    await new Promise((r) => setTimeout(r, 300));
    log.record(record(4));
    await redis.ping();
    assert.deepEqual(await raw.zrange(`${prefix}decisions-index`, 0, -1), [digestOf(4)]);
    assert.deepEqual(await lists(raw, prefix), [digestOf(4)]);
  });

  it('an ioredis keyPrefix is applied to evicted lists too', async (t) => {
    const defer = scope(t);
    const outer = await sharedPrefix(defer, 'decisions');
    const redis = await client(defer, SHARED_REDIS_URL, { keyPrefix: outer });
    const raw = await client(defer, SHARED_REDIS_URL);
    const log = createRedisDecisionLog({ redis, prefix: '{tg}:', memory: createMemoryDecisionLog(), maxDigests: 2 });
    for (const i of [1, 2, 3, 4]) log.record(record(i));
    await redis.ping();
    assert.deepEqual(await lists(raw, `${outer}{tg}:`), [3, 4].map(digestOf));
  });
});

describe('config: gate.decisionLog.maxDigests', () => {
  const BASE = `
listen: { address: "127.0.0.1:0", plainHttp: true }
upstreams:
  - { name: local, url: "http://127.0.0.1:5000", default: true, repositories: ["127.0.0.1:5000/**"] }
`;
  it('defaults to 100000 and takes a value', () => {
    assert.equal(parseConfig(BASE, 'test.yaml').gate.decisionLog.maxDigests, 100_000);
    assert.equal(parseConfig(`${BASE}gate: { decisionLog: { maxDigests: 5000 } }\n`, 'test.yaml').gate.decisionLog.maxDigests, 5000);
  });
  it('refuses a cap below 100, above 10000000, or not an integer', () => {
    for (const bad of ['0', '99', '10000001', '1000.5']) {
      const error = configProblem(`${BASE}gate: { decisionLog: { maxDigests: ${bad} } }\n`);
      assert.equal(error.field, 'gate.decisionLog.maxDigests', bad);
    }
  });
});

describe('the decision feed across digests', () => {
  const at = (i: number, outcome: 'allow' | 'deny', code: string, name = '127.0.0.1:5000/team/app'): DecisionRecord => ({
    ...record(i, 1_000_000 + i * 1000),
    name,
    outcome,
    reasons: [{ code: code as DecisionRecord['reasons'][number]['code'], message: code }],
  });
  const sample = (): DecisionRecord[] => [
    at(1, 'deny', 'unsigned'),
    at(2, 'allow', 'signed'),
    at(3, 'deny', 'scan_failed', '127.0.0.1:5000/other/app'),
    at(4, 'deny', 'unsigned', '127.0.0.1:5000/other/app'),
    at(5, 'deny', 'unsigned'),
  ];

  for (const backend of ['memory', 'redis'] as const) {
    it(`${backend}: newest first, filtered by outcome, reason, since and name, at most limit`, async (t) => {
      const defer = scope(t);
      let log = createMemoryDecisionLog();
      if (backend === 'redis') {
        const prefix = await sharedPrefix(defer, 'decisions');
        log = createRedisDecisionLog({ redis: await client(defer, SHARED_REDIS_URL), prefix, memory: createMemoryDecisionLog() });
      }
      for (const r of sample()) log.record(r);
      const refs = async (q: Parameters<typeof log.feed>[0]) => {
        const page = await log.feed(q);
        assert.equal(page.from, backend);
        return page.records.map((r) => r.reference);
      };
      // Redis writes are fire and forget: wait until the feed holds all five.
      while ((await log.feed({ limit: 10 })).records.length < 5) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(await refs({ limit: 10 }), ['v5', 'v4', 'v3', 'v2', 'v1']);
      assert.deepEqual(await refs({ limit: 10, outcome: 'deny', reason: 'unsigned' }), ['v5', 'v4', 'v1']);
      assert.deepEqual(await refs({ limit: 2, outcome: 'deny' }), ['v5', 'v4']);
      assert.deepEqual(await refs({ limit: 10, since: 1_003_000 }), ['v5', 'v4', 'v3']);
      assert.deepEqual(await refs({ limit: 10, visible: (n) => n.includes('/other/') }), ['v4', 'v3']);
      assert.equal((await log.feed({ limit: 2 })).exhausted, false);
      assert.equal((await log.feed({ limit: 10 })).exhausted, true);
    });
  }

  it('memory: keeps the newest recentCap records', async () => {
    const log = createMemoryDecisionLog(DECISIONS_PER_DIGEST, 100, 30);
    for (let i = 0; i < 200; i += 1) log.record(record(i));
    const page = await log.feed({ limit: 1000 });
    assert.equal(page.records.length, 30);
    assert.equal(page.records[0]?.reference, 'v199');
    assert.equal(page.records[29]?.reference, 'v170');
  });

  it('redis: the stream is capped near recentCap, and a read never returns more than recentCap', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'decisions');
    const redis = await client(defer, SHARED_REDIS_URL);
    const raw = await client(defer, SHARED_REDIS_URL);
    const log = createRedisDecisionLog({ redis, prefix, memory: createMemoryDecisionLog(), recentCap: 100 });
    for (let i = 0; i < 1000; i += 1) log.record(record(i % 7, i));
    await redis.ping();
    const length = await raw.xlen(`${prefix}decisions-recent`);
    assert.ok(length >= 100 && length < 300, `stream length ${length}`);
    const page = await log.feed({ limit: 1000 });
    assert.equal(page.records.length, 100);
    assert.equal(page.records[0]?.time, 999);
    assert.ok((await raw.pttl(`${prefix}decisions-recent`)) > 0, 'the stream expires');
    assert.throws(() => createRedisDecisionLog({ redis, prefix, memory: createMemoryDecisionLog(), recentCap: 0 }), TypeError);
  });
});
