// openBackend: the one place that decides memory or Redis. Without redis.url every store is this
// process's own; with it every store is shared through Redis (real Redis, a fresh key prefix),
// under the key names older replicas use, and close() closes every connection it opened.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { BackendConfig } from '../../src/runtime/backend.ts';
import { digest, record } from '../scan-store/scans.ts';
import { client, eventually, keysUnder, recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';
import { backendConfig, openReplica } from '../support/backend-kit.ts';
import { entry } from '../trust/entries.ts';

const WITH_AUTH: Partial<BackendConfig> = {
  pullAuth: { rateLimit: { maxFailures: 3, windowMs: 60_000 } },
  admin: { rateLimit: { requestsPerMinute: 10, failedAuthPerMinute: 1 } },
};
const ROBOT = { name: 'ci', salt: 's', hash: 'h', repositories: ['docker.io/**'], createdAt: 1 };
const EVENT = { actor: 'kim', roles: ['admin'], action: 'key.add', target: 'k1', outcome: 'ok' } as const;

describe('openBackend', () => {
  it('without redis.url: every store in memory, no connection, each replica its own', async (t) => {
    const defer = scope(t);
    const logger = recordingLogger();
    const config = backendConfig(undefined, WITH_AUTH);
    const { backend: a } = await openReplica(defer, config, { logger });
    const { backend: b } = await openReplica(defer, config);
    assert.equal(a.kind, 'memory');
    assert.equal(a.redis, undefined);
    assert.equal(a.verdictLayer, undefined);
    assert.equal(a.apiPolicy, undefined, 'no API policy: changes answer 409');
    assert.equal(a.breakGlass.shared, false);
    assert.equal((await a.decisions.recent(digest(1), 10)).from, 'memory');
    assert.match(logger.text(), /"event":"break_glass_local"/);
    assert.match(logger.text(), /"event":"robots_in_memory"/);

    await a.trust.upsert([entry('k1')]);
    await a.scans.put(record());
    await a.audit.append(EVENT);
    assert.equal(await a.pullAuth?.robots.create(ROBOT), true);
    assert.equal(b.trust.snapshot().entries.length, 0);
    assert.equal(await b.scans.get(digest(1)), undefined);
    assert.deepEqual((await b.audit.page({ limit: 10 })).entries, []);
    assert.equal(await b.pullAuth?.robots.get('ci'), undefined);
    await a.adminRateLimit?.failed.failed(['address:x']);
    assert.ok(((await a.adminRateLimit?.failed.blockedFor(['address:x'])) ?? 0) > 0);
    assert.equal(await b.adminRateLimit?.failed.blockedFor(['address:x']), 0);
  });

  it('with redis.url: every store in Redis, shared by every replica, under the existing key names', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'backend');
    const logger = recordingLogger();
    const config = backendConfig(SHARED_REDIS_URL, WITH_AUTH);
    const { backend: a } = await openReplica(defer, config, { redisPrefix: prefix, logger });
    const { backend: b } = await openReplica(defer, config, { redisPrefix: prefix });
    assert.equal(a.kind, 'redis');
    assert.ok(a.redis !== undefined && a.verdictLayer !== undefined && a.apiPolicy !== undefined);
    assert.equal(a.breakGlass.shared, true);
    assert.equal((await a.decisions.recent(digest(1), 10)).from, 'redis');
    assert.doesNotMatch(logger.text(), /break_glass_local|robots_in_memory/);

    await a.trust.upsert([entry('k1')]);
    await a.scans.put(record());
    await a.audit.append(EVENT);
    assert.equal(await a.pullAuth?.robots.create(ROBOT), true);
    await a.adminRateLimit?.failed.failed(['address:x']);
    await eventually(() => b.trust.snapshot().entries.some((e) => e.id === 'k1'), 2000, 'B sees the entry');
    assert.deepEqual(await b.scans.get(digest(1)), record());
    assert.deepEqual(
      (await b.audit.page({ limit: 10 })).entries.map((e) => e.action),
      ['key.add'],
    );
    assert.equal((await b.pullAuth?.robots.get('ci'))?.name, 'ci');
    assert.ok(((await b.adminRateLimit?.failed.blockedFor(['address:x'])) ?? 0) > 0, 'counted for every replica');
    const keys = await keysUnder(await client(defer, SHARED_REDIS_URL), prefix);
    for (const name of [
      'trust:entries',
      'trust:version',
      'scan:records',
      'scan-requests',
      'audit',
      'robots',
      'admin-login-failures:address:x',
    ]) {
      assert.ok(keys.includes(`${prefix}${name}`), `${prefix}${name} in ${keys.join(' ')}`);
    }
  });

  it('with redis.url: close() closes both connections it opened, and every store', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'backend');
    const { backend } = await openReplica(defer, backendConfig(SHARED_REDIS_URL), { redisPrefix: prefix });
    const admin = (await client(defer, SHARED_REDIS_URL)) as Redis;
    const connections = [backend.redis?.command, backend.redis?.subscriber] as Redis[];
    const addresses = connections.map((c) => `addr=${c.stream.localAddress}:${c.stream.localPort} `);
    const listed = async (): Promise<number> => {
      const list = String(await admin.call('CLIENT', 'LIST'));
      return addresses.filter((address) => list.includes(address)).length;
    };
    assert.equal(await listed(), 2);
    await backend.close();
    await eventually(() => connections.every((c) => c.status === 'end'), 2000, 'both clients end');
    await eventually(async () => (await listed()) === 0, 2000, 'Redis no longer lists either connection');
    await assert.rejects(backend.trust.revoke('k1', 'r', 1), /closed/);
  });
});
