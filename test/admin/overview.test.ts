import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createMemoryDecisionLog, type DecisionLog, type DecisionRecord } from '../../src/gate/decision-log.ts';
import { createRedisDecisionLog } from '../../src/gate/redis-decision-log.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { connectRedis, createRedis, type RedisClient } from '../../src/redis/connection.ts';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { minimalImage, serveImage, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, spki } from './key-material.ts';

// The Overview's endpoints on an app sharing Redis with a second writer (another replica's decision
// log on the same prefix), on a fixed clock, in front of a fake upstream serving one unsigned image
// the policy denies: GET /admin/v1/decisions/recent and GET /admin/v1/overview.
const prefix = testPrefix('overview');
const clock = Math.floor(Date.now() / 1000) * 1000;
const MIN = 60_000;
let upstream: FakeUpstream;
let app: AdminApp;
let writerRedis: RedisClient;
let writer: DecisionLog;
let host = '';
let admin: string;
let auditor: string;
let scoped: string;
let scanner: string;

const digestOf = (i: number): Digest => `sha256:${i.toString(16).padStart(64, '0')}` as Digest;
const record = (i: number, ago: number, repo: string, outcome: 'allow' | 'deny', code: string): DecisionRecord => ({
  time: clock - ago,
  name: `${host}/allowed/${repo}`,
  reference: `v${i}`,
  digest: digestOf(i),
  outcome,
  rule: outcome === 'deny' ? 'signed' : 'open',
  reasons: [{ code: code as DecisionRecord['reasons'][number]['code'], message: code }],
  signers: [],
});
const get = (path: string, auth = auditor) => request(app.app).get(`/admin/v1${path}`).set('authorization', auth);
const iso = (ms: number): string => new Date(ms).toISOString();

before(async () => {
  upstream = await startFakeUpstream();
  host = upstream.host;
  serveImage(upstream, 'allowed/app', 'v1', minimalImage());
  const policy = `version: 1\nrules:\n  - { name: signed, images: ["${host}/allowed/**"] }\n`;
  const pem = spki(ec('P-256').publicKey);
  app = await adminApp(singleUpstream(upstream.url, `redis: { url: "${REDIS_URL}" }\n`), {
    redisPrefix: prefix,
    policy,
    now: () => clock,
    keys: [
      { id: 'k-late', pem, scopes: [`${host}/**`], extra: `notAfter: "${iso(clock + 30 * 86_400_000)}"\n` },
      { id: 'k-soon', pem: spki(ec('P-256').publicKey), scopes: [`${host}/**`], extra: `notAfter: "${iso(clock + 2 * 86_400_000)}"\n` },
      { id: 'k-none', pem: spki(ec('P-256').publicKey), scopes: [`${host}/**`] },
    ],
  });
  writerRedis = createRedis(REDIS_URL);
  await connectRedis(writerRedis, 5000);
  writer = createRedisDecisionLog({ redis: writerRedis, prefix, memory: createMemoryDecisionLog() });
  for (const r of [
    record(1, 30 * 3_600_000, 'team-a/app', 'deny', 'unsigned'), // older than a day: in the feed, not in the overview
    record(2, 150 * MIN, 'team-b/app', 'deny', 'scan_failed'),
    record(3, 140 * MIN, 'team-b/app', 'deny', 'scan_failed'),
    record(4, 30 * MIN, 'team-a/app', 'allow', 'signed'),
    record(5, 12 * MIN, 'team-a/app', 'deny', 'unsigned'),
    record(6, 11 * MIN, 'team-a/app', 'deny', 'unsigned'),
    record(7, 2 * MIN, 'team-a/app', 'deny', 'unsigned'),
  ])
    writer.record(r);
  await writerRedis.ping(); // fire and forget: the PING returns after every write before it
  admin = await app.bearer('ada', ['admin']);
  auditor = await app.bearer('audrey', ['auditor']);
  scoped = await app.bearer('sam', [`key-manager@${host}/allowed/team-a/**`]);
  scanner = await app.bearer('scan', ['scanner']);
  assert.equal((await request(app.app).get('/v2/allowed/app/manifests/v1')).status, 403); // a real denial, recorded by the pull path
});
after(async () => {
  writerRedis?.disconnect();
  await app?.close();
  await upstream?.close();
  await deleteRedisKeys(prefix);
});

describe('GET /admin/v1/decisions/recent', () => {
  it('lists decisions across digests and replicas, newest first, with the filters', async () => {
    const all = (await get('/decisions/recent').expect(200)).body;
    assert.equal(all.from, 'redis');
    assert.deepEqual(
      all.decisions.map((d: { name: string; reference: string }) => `${d.name.slice(host.length)}:${d.reference}`),
      [
        '/allowed/app:v1',
        '/allowed/team-a/app:v7',
        '/allowed/team-a/app:v6',
        '/allowed/team-a/app:v5',
        '/allowed/team-a/app:v4',
        '/allowed/team-b/app:v3',
        '/allowed/team-b/app:v2',
        '/allowed/team-a/app:v1',
      ],
    );
    assert.equal(all.decisions[1].time, iso(clock - 2 * MIN));
    assert.equal(all.exhausted, true);
    const refs = async (query: string, auth = auditor) =>
      (await get(`/decisions/recent?${query}`, auth).expect(200)).body.decisions.map((d: { reference: string }) => d.reference);
    assert.deepEqual(await refs('outcome=deny&reason=scan_failed'), ['v3', 'v2']);
    assert.deepEqual(await refs('outcome=allow'), ['v4']);
    assert.deepEqual(await refs(`since=${iso(clock - 20 * MIN)}&reason=unsigned`), ['v1', 'v7', 'v6', 'v5']);
    assert.deepEqual(await refs('limit=2'), ['v1', 'v7']);
    assert.equal((await get('/decisions/recent?limit=2').expect(200)).body.exhausted, false);
  });

  it('shows a repository-scoped key-manager only the images within their scope', async () => {
    const res = (await get('/decisions/recent', scoped).expect(200)).body;
    assert.deepEqual(
      res.decisions.map((d: { reference: string }) => d.reference),
      ['v7', 'v6', 'v5', 'v4', 'v1'],
    );
  });

  it('refuses bad filters with 400, and callers without a reading role with 403', async () => {
    for (const query of [
      'outcome=maybe',
      'reason=Not%20A%20Code',
      'since=yesterday',
      'limit=0',
      'limit=1001',
      'outcome=deny&outcome=allow',
    ]) {
      const res = await get(`/decisions/recent?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.errors[0].code, 'BAD_REQUEST', query);
    }
    await get('/decisions/recent', scanner).expect(403);
    await get('/overview', scanner).expect(403);
    await request(app.app).get('/admin/v1/overview').expect(401);
  });
});

describe('GET /admin/v1/overview', () => {
  it('counts pulls by hour and by five minutes, by outcome and reason, and names the most-denied images', async () => {
    await request(app.app)
      .post('/admin/v1/breakglass')
      .set('authorization', admin)
      .send({ image: `${host}/allowed/team-b/**`, reason: 'INC-2: scanner down', expires: iso(clock + 3_600_000) })
      .expect(201);
    await request(app.app)
      .post('/admin/v1/breakglass')
      .set('authorization', admin)
      .send({ image: `${host}/allowed/team-a/**`, reason: 'INC-1: hotfix', expires: iso(clock + 7_200_000) })
      .expect(201);
    const body = (await get('/overview').expect(200)).body;
    assert.equal(body.generatedAt, iso(clock));
    const d = body.decisions;
    assert.equal(d.from, 'redis');
    assert.equal(d.records, 7, 'the record older than a day is left out');
    assert.equal(d.complete, true);
    assert.equal(d.hourly.length, 24);
    assert.equal(d.fiveMinute.length, 12);
    const sum = (buckets: { allow: number; deny: number }[], k: 'allow' | 'deny') => buckets.reduce((n, b) => n + b[k], 0);
    assert.equal(sum(d.hourly, 'deny'), 6);
    assert.equal(sum(d.hourly, 'allow'), 1);
    assert.equal(sum(d.fiveMinute, 'deny'), 4, 'the last hour: v5, v6, v7 and the real pull');
    const last = d.hourly[23];
    assert.equal(last.start, iso(Math.floor(clock / 3_600_000) * 3_600_000));
    const reasons = d.hourly.reduce((acc: Record<string, number>, b: { reasons: { deny: Record<string, number> } }) => {
      for (const [k, v] of Object.entries(b.reasons.deny)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {});
    assert.equal(reasons['scan_failed'], 2);
    assert.equal(
      Object.values(reasons as Record<string, number>).reduce((a, b) => a + b, 0),
      6,
    );
    assert.deepEqual(d.mostDenied[0], { name: `${host}/allowed/team-a/app`, reason: 'unsigned', count: 3 });
    assert.deepEqual(d.mostDenied[1], { name: `${host}/allowed/team-b/app`, reason: 'scan_failed', count: 2 });
    assert.equal(d.mostDenied.length, 3);
    assert.deepEqual(
      body.trustExpiry.map((e: { id: string; by: string }) => `${e.id}:${e.by}`),
      ['k-soon:window', 'k-late:window'],
    );
    assert.equal(body.trustExpiry[0].notAfter, iso(clock + 2 * 86_400_000));
    assert.equal(body.breakGlass.shared, true);
    assert.deepEqual(
      body.breakGlass.entries.map((e: { reason: string }) => e.reason),
      ['INC-2: scanner down', 'INC-1: hotfix'],
    );
    assert.equal(body.scanQueue.available, true);
    assert.equal(typeof body.scanQueue.depth, 'number');
    assert.equal(body.scanQueue.atLeast, false);
  });

  it('shows a repository-scoped key-manager only the decisions and break-glass entries within their scope', async () => {
    const body = (await get('/overview', scoped).expect(200)).body;
    assert.deepEqual(
      body.decisions.mostDenied.map((m: { name: string }) => m.name),
      [`${host}/allowed/team-a/app`],
    );
    assert.equal(body.decisions.records, 4);
    assert.deepEqual(
      body.breakGlass.entries.map((e: { reason: string }) => e.reason),
      ['INC-1: hotfix'],
    );
  });

  it('is audited as overview.read and decision.recent.read only when refused', async () => {
    const entries = (await get('/audit?action=overview.read')).body.entries as { actor: string; outcome: string }[];
    assert.ok(entries.some((e) => e.actor === 'scan' && e.outcome === 'denied'));
  });
});
