import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryAuditLog } from '../../src/audit/memory-audit-log.ts';
import { createRedisAuditLog } from '../../src/audit/redis-audit-log.ts';
import type { AuditEvent, AuditLog } from '../../src/audit/types.ts';
import { client, recordingLogger, scope, SHARED_REDIS_URL, sharedPrefix } from '../support/helpers.ts';

const event = (i: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  actor: i % 2 === 0 ? 'alice' : 'bob',
  roles: ['key-manager'],
  action: i % 3 === 0 ? 'key.revoke' : 'key.add',
  target: `k${i}`,
  outcome: 'ok',
  ...overrides,
});

const PRIVATE_PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

type Open = (
  t: import('node:test').TestContext,
  options: { maxEntries: number; now?: () => number },
) => Promise<{ log: AuditLog; logs: ReturnType<typeof recordingLogger> }>;

const kinds: Record<string, Open> = {
  memory: async (_t, options) => {
    const logs = recordingLogger();
    return { log: createMemoryAuditLog({ ...options, logger: logs }), logs };
  },
  redis: async (t, options) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'audit');
    const logs = recordingLogger();
    return { log: createRedisAuditLog({ redis: await client(defer, SHARED_REDIS_URL), prefix, ...options, logger: logs }), logs };
  },
};

for (const [kind, open] of Object.entries(kinds)) {
  describe(`${kind} audit log`, () => {
    it('pages newest first with a cursor, through every entry exactly once', async (t) => {
      let clock = 1_000;
      const { log } = await open(t, { maxEntries: 1000, now: () => clock });
      for (let i = 0; i < 25; i += 1) {
        clock += i % 4 === 0 ? 0 : 1; // several entries in one millisecond keep their order too
        await log.append(event(i));
      }
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await log.page({ limit: 10, ...(after === undefined ? {} : { after }) });
        seen.push(...page.entries.map((e) => e.target));
        after = page.next;
        pages += 1;
      } while (after !== undefined && pages < 10);
      assert.deepEqual(
        seen,
        Array.from({ length: 25 }, (_, i) => `k${24 - i}`),
      );
      const first = (await log.page({ limit: 1 })).entries[0]!;
      assert.equal(first.time, clock);
      assert.match(first.id, /^\d+-\d+$/);
    });

    it('filters by actor and by action (exact or key.*), across pages', async (t) => {
      const { log } = await open(t, { maxEntries: 1000 });
      for (let i = 0; i < 30; i += 1) await log.append(event(i));
      await log.append(event(30, { action: 'scan.post', actor: 'scanner-1' }));
      const alice = await log.page({ limit: 100, actor: 'alice' });
      assert.equal(alice.entries.length, 15);
      assert.ok(alice.entries.every((e) => e.actor === 'alice'));
      const revokes = await log.page({ limit: 3, action: 'key.revoke', actor: 'bob' });
      assert.deepEqual(
        revokes.entries.map((e) => e.target),
        ['k27', 'k21', 'k15'],
      );
      const rest = await log.page({ limit: 100, action: 'key.revoke', actor: 'bob', after: revokes.next! });
      assert.deepEqual(
        rest.entries.map((e) => e.target),
        ['k9', 'k3'],
      );
      assert.equal(rest.next, undefined);
      assert.equal((await log.page({ limit: 100, action: 'key.*' })).entries.length, 30);
      assert.deepEqual(
        (await log.page({ limit: 100, action: 'scan.post' })).entries.map((e) => e.actor),
        ['scanner-1'],
      );
    });

    it('keeps about maxEntries, dropping the oldest', async (t) => {
      const { log } = await open(t, { maxEntries: 100 });
      for (let i = 0; i < 400; i += 1) await log.append(event(i));
      const all = await log.page({ limit: 1000 });
      assert.ok(all.entries.length >= 100 && all.entries.length < 400, `kept ${all.entries.length}`);
      assert.equal(all.entries[0]?.target, 'k399');
      if (kind === 'memory') assert.equal(all.entries.length, 100);
    });

    it('writes every entry to the log output too, and never a private key, token or password', async (t) => {
      const { log, logs } = await open(t, { maxEntries: 1000 });
      await log.append(
        event(1, {
          after: { pem: PRIVATE_PEM, note: PRIVATE_PEM, password: 'hunter2', nested: [{ token: 'abc' }, `Bearer ${JWT}`] },
          message: JWT,
        }),
      );
      await log.append(event(2, { outcome: 'denied', message: 'this needs the role "key-manager"' }));
      const page = await log.page({ limit: 10 });
      const stored = JSON.stringify(page.entries);
      for (const text of [stored, logs.text()]) {
        assert.doesNotMatch(text, /PRIVATE KEY|hunter2|eyJhbGci|MIGHAgEA|"abc"/);
      }
      assert.deepEqual(page.entries[1]?.after, {
        pem: '[redacted]',
        note: '[redacted]',
        password: '[redacted]',
        nested: [{ token: '[redacted]' }, '[redacted]'],
      });
      const audits = logs.records.filter((r) => (r.record as { event?: string }).event === 'audit');
      assert.deepEqual(
        audits.map((r) => [r.level, (r.record as { target: string }).target]),
        [
          ['info', 'k1'],
          ['warn', 'k2'],
        ],
      );
    });
  });
}

describe('redis audit log', () => {
  it('appends to the stream <prefix>audit, trimmed with MAXLEN ~', async (t) => {
    const defer = scope(t);
    const prefix = await sharedPrefix(defer, 'audit');
    const redis = await client(defer, SHARED_REDIS_URL);
    const log = createRedisAuditLog({ redis, prefix, maxEntries: 100 });
    await log.append(event(1));
    assert.equal(await redis.type(`${prefix}audit`), 'stream');
    const [[, fields]] = (await redis.xrange(`${prefix}audit`, '-', '+')) as [[string, string[]]];
    assert.equal(fields[0], 'entry');
    assert.equal(JSON.parse(fields[1]!).action, 'key.add');
  });

  it('a Redis failure on append is logged, the entry still reaches the log output, and nothing throws', async (t) => {
    const defer = scope(t);
    const redis = await client(defer, SHARED_REDIS_URL);
    redis.disconnect();
    const logs = recordingLogger();
    const log = createRedisAuditLog({ redis, prefix: 'tgtest:audit-down:', maxEntries: 100, logger: logs });
    await log.append(event(1));
    assert.match(logs.text(), /audit entry not stored in redis/);
    assert.ok(logs.records.some((r) => (r.record as { event?: string }).event === 'audit'));
    await assert.rejects(log.page({ limit: 1 }), /audit log is unavailable/);
  });
});
