import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createAdminRateLimit } from '../../src/admin/rate-limit.ts';
import { createRedisAdminRateLimitStores } from '../../src/admin/rate-limit-store.ts';
import { parseConfig } from '../../src/config/index.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { createRedis } from '../../src/redis/connection.ts';
import { adminTokens, UNLIMITED, type AdminTokens } from '../support/admin-tokens.ts';
import { configProblem } from '../support/config-problem.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { call, tokenFor, writeSigningKey, type CallResult } from '../support/pull-auth.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ociErrorOf } from './raw-http.ts';

// The admin API's rate limits, end to end through real listeners: fixed one-minute windows per
// token subject and per client address for authenticated calls, and a tighter one per address for
// calls whose token is refused (401), checked before any token is verified.
const REQUESTS = 5;
const FAILED = 3;
const START = Date.parse('2026-06-01T12:00:00Z');
let clock = START;
const now = (): number => clock;
const prefix = testPrefix('admin-ratelimit');
let dir: string;
let tokens: AdminTokens;
let memory: RunningProxy; // no Redis, controlled clock
let a: RunningProxy; // two replicas sharing Redis
let b: RunningProxy;
let pullAuth: RunningProxy; // pull-side logins, no Redis

let nextAddress = 20;
/** A loopback address no other test uses, so per-address counts never cross tests. */
const freshAddress = (): string => `127.0.0.${nextAddress++}`;

const adminYaml = (redis: string): string => `
listen: { plainHttp: true }
${redis}
upstreams:
  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }
${tokens.configYaml.replace(UNLIMITED, `{ requestsPerMinute: ${REQUESTS}, failedAuthPerMinute: ${FAILED} }`)}`;

async function audit(proxy: RunningProxy, subject: string, from: string, headers: Record<string, string> = {}): Promise<CallResult> {
  return call(`${proxy.url}/admin/v1/audit?limit=1`, {
    headers: { authorization: `Bearer ${await tokens.mint(subject, ['auditor'])}`, ...headers },
    from,
  });
}
const badToken = (proxy: RunningProxy, from: string): Promise<CallResult> =>
  call(`${proxy.url}/admin/v1/audit`, { headers: { authorization: 'Bearer not.a.token' }, from });

function assertThrottled(res: CallResult, message: RegExp): void {
  assert.equal(res.status, 429, res.text);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(res.headers['retry-after'])}`);
  const error = ociErrorOf(res.text);
  assert.equal(error.code, 'TOOMANYREQUESTS');
  assert.match(error.message, message);
}

async function metric(proxy: RunningProxy, reason: string): Promise<number> {
  const text = (await call(`${proxy.url}/metrics`)).text;
  const line = text.split('\n').find((l) => l.startsWith(`trustgate_admin_throttled_total{reason="${reason}"}`));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tg-ratelimit-'));
  tokens = await adminTokens(dir);
  memory = await startProxy(adminYaml(''), { now });
  const shared = `redis: { url: "${REDIS_URL}" }`;
  a = await startProxy(adminYaml(shared), { redisPrefix: prefix });
  b = await startProxy(adminYaml(shared), { redisPrefix: prefix });
  pullAuth = await startProxy(
    `
listen: { plainHttp: true }
upstreams:
  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }
pullAuth:
  signingKey: { file: "${writeSigningKey(dir)}" }
  rateLimit: { maxFailures: 2, windowMs: 60000 }
`,
    { now },
  );
});

after(async () => {
  await Promise.all([memory?.close(), a?.close(), b?.close(), pullAuth?.close()]);
  await deleteRedisKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('admin API: authenticated calls (requestsPerMinute)', () => {
  it(`per subject: the ${REQUESTS + 1}th call in a minute › 429 TOOMANYREQUESTS with Retry-After, from any address; other subjects unaffected`, async () => {
    for (let i = 0; i < REQUESTS; i += 1) assert.equal((await audit(memory, 'alice', freshAddress())).status, 200);
    assertThrottled(await audit(memory, 'alice', freshAddress()), /too many admin API calls/);
    assert.equal((await audit(memory, 'bob', freshAddress())).status, 200);
  });

  it('the window ends › the subject may call again', async () => {
    clock += 60_000;
    assert.equal((await audit(memory, 'alice', freshAddress())).status, 200);
  });

  it(`per address: ${REQUESTS} subjects from one address › the next is 429, even with a fresh subject; X-Forwarded-For changes nothing`, async () => {
    const from = freshAddress();
    for (let i = 0; i < REQUESTS; i += 1) assert.equal((await audit(memory, `many-${i}`, from)).status, 200);
    assertThrottled(await audit(memory, 'fresh-subject', from), /too many admin API calls/);
    assertThrottled(
      await audit(memory, 'fresh-subject-2', from, { 'x-forwarded-for': '203.0.113.7', forwarded: 'for=203.0.113.7' }),
      /too many admin API calls/,
    );
    assert.equal((await audit(memory, 'fresh-subject', freshAddress())).status, 200);
  });

  it('calls refused for their role (403) count too', async () => {
    const from = freshAddress();
    for (let i = 0; i < REQUESTS; i += 1) {
      const res = await call(`${memory.url}/admin/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await tokens.mint('prober', ['auditor'])}` },
        from,
      });
      assert.equal(res.status, 403);
    }
    assertThrottled(await audit(memory, 'prober', freshAddress()), /too many admin API calls/);
  });
});

describe('admin API: failed authentication (failedAuthPerMinute, tighter)', () => {
  it(`${FAILED} refused tokens from one address › the next call is 429 before its token is checked, even a valid one`, async () => {
    const from = freshAddress();
    for (let i = 0; i < FAILED; i += 1) assert.equal((await badToken(memory, from)).status, 401);
    assertThrottled(await audit(memory, 'carol', from), /too many failed admin authentications from this address/);
    assertThrottled(await call(`${memory.url}/admin/v1/audit`, { from }), /too many failed admin authentications/);
    assert.equal((await audit(memory, 'carol', freshAddress())).status, 200, 'other addresses are not affected');
  });

  it('throttled calls are counted in trustgate_admin_throttled_total{reason}', async () => {
    assert.ok((await metric(memory, 'failed_auth')) >= 2);
    assert.ok((await metric(memory, 'requests')) >= 4);
    assert.equal(await metric(a, 'failed_auth'), 0, 'present from the start');
  });

  it('the defaults: 600 calls and 20 failed authentications per minute; bad values are refused naming the field', () => {
    const base =
      'listen: { plainHttp: true }\nupstreams: [{ name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }]\n';
    const admin = (extra: string): string => `${base}admin: { jwks: { file: x.json }, issuer: i, audience: a${extra} }\n`;
    assert.deepEqual(parseConfig(admin(''), 'test.yaml').admin?.rateLimit, { requestsPerMinute: 600, failedAuthPerMinute: 20 });
    assert.equal(configProblem(admin(', rateLimit: { requestsPerMinute: 0 }')).field, 'admin.rateLimit.requestsPerMinute');
    assert.equal(configProblem(admin(', rateLimit: { failedAuthPerMinute: 1.5 }')).field, 'admin.rateLimit.failedAuthPerMinute');
    assert.equal(configProblem(admin(', rateLimit: { perHour: 5 }')).field, 'admin.rateLimit');
  });
});

describe('admin API: shared through Redis', () => {
  it('failed authentications on replica A and B add up: the address is throttled on both', async () => {
    const from = freshAddress();
    for (const proxy of [a, b, a]) assert.equal((await badToken(proxy, from)).status, 401);
    assertThrottled(await audit(b, 'dave', from), /too many failed admin authentications/);
    assertThrottled(await audit(a, 'dave', from), /too many failed admin authentications/);
  });

  it("a subject's calls on A and B add up, under <prefix>admin-calls:* keys that expire with the window", async () => {
    for (let i = 0; i < REQUESTS; i += 1) assert.equal((await audit(i % 2 === 0 ? a : b, 'erin', freshAddress())).status, 200);
    assertThrottled(await audit(a, 'erin', freshAddress()), /too many admin API calls/);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}admin-*`);
      assert.ok(
        keys.some((k) => k.startsWith(`${prefix}admin-calls:subject:`)),
        keys.join(' '),
      );
      assert.ok(
        keys.some((k) => k.startsWith(`${prefix}admin-login-failures:address:`)),
        keys.join(' '),
      );
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        assert.ok(ttl > 0 && ttl <= 60_000, `${key} ttl ${ttl}`);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('Redis unreachable › each replica counts in memory rather than not at all', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { maxRetryDelayMs: 100, commandTimeoutMs: 200 });
    try {
      const limit = createAdminRateLimit({
        stores: createRedisAdminRateLimitStores({
          config: { requestsPerMinute: 2, failedAuthPerMinute: 1 },
          redis: dead,
          prefix: '{dead}:',
          logger: noopLogger,
          now: Date.now,
        }),
        logger: noopLogger,
      });
      await limit.authenticated('frank', '10.0.0.1');
      await limit.authenticated('frank', '10.0.0.2');
      await assert.rejects(limit.authenticated('frank', '10.0.0.3'), { code: 'TOOMANYREQUESTS' });
      await limit.failedAuth('10.0.0.9');
      await assert.rejects(limit.beforeAuth('10.0.0.9'), { code: 'TOOMANYREQUESTS' });
    } finally {
      dead.disconnect();
    }
  });
});

describe('pull-side logins (GET /token), without Redis', () => {
  it('failed logins past rateLimit.maxFailures › 429 with Retry-After until the window ends, then counted afresh', async () => {
    const from = freshAddress();
    for (let i = 0; i < 2; i += 1) assert.equal((await tokenFor(pullAuth.url, 'nobody', 'guess', [], from)).status, 401);
    assertThrottled(await tokenFor(pullAuth.url, 'nobody', 'guess', [], from), /too many failed logins/);
    clock += 60_000;
    assert.equal((await tokenFor(pullAuth.url, 'nobody', 'guess', [], from)).status, 401, 'counted afresh after the window');
  });
});
