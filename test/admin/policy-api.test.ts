import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { PolicyHolder } from '../../src/policy-store/holder.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { policyText } from '../../src/runtime/control.ts';
import { followApiPolicy } from '../../src/policy-store/api-policy.ts';
import { connectRedis, createRedis } from '../../src/redis/connection.ts';
import { redisPolicyVersions } from '../../src/policy-store/redis-policy-versions.ts';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// The policy API on two replicas sharing Redis (and a third started later), in front of a fake
// upstream serving one unsigned image: the file denies everything, the API policies open or close it.
const prefix = testPrefix('policy-api');
const FILE_POLICY = 'version: 1\nrules: []\n';
const OPEN = 'version: 1\nrules:\n  - { name: api-open, images: ["**"], mode: off }\n';
const CLOSED = 'version: 1\n# every image needs a signature\nrules:\n  - { name: api-closed, images: ["**"] }\n';
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 },
    layers: [],
  }),
);
let upstream: FakeUpstream;
let a: AdminApp;
let b: AdminApp;
let km: string;
let auditor: string;
let fileHash = '';

const yaml = (): string => singleUpstream(upstream.url, `redis: { url: "${REDIS_URL}" }\n`);
const put = (app: AdminApp, text: string) =>
  request(app.app).put('/admin/v1/policy').set('authorization', km).set('content-type', 'application/yaml').send(text);
const pull = async (app: AdminApp): Promise<number> => (await request(app.app).get('/v2/allowed/app/manifests/v1')).status;

/** Polls a replica until a pull answers `status`; returns how long that took. */
async function until(app: AdminApp, status: number, limitMs = 1000): Promise<number> {
  const started = Date.now();
  while ((await pull(app)) !== status) {
    if (Date.now() - started > limitMs) assert.fail(`no ${status} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on('/v2/allowed/app/manifests/v1', manifestAnswer(manifest, MediaType.ociManifest));
  a = await adminApp(yaml(), { redisPrefix: prefix, policy: FILE_POLICY });
  b = await adminApp(yaml(), { redisPrefix: prefix, policy: FILE_POLICY, tokens: a.tokens });
  km = await a.bearer('kim', ['key-manager']);
  auditor = await a.bearer('audrey', ['auditor']);
});
after(async () => {
  await a?.close();
  await b?.close();
  await upstream?.close();
  await deleteRedisKeys(prefix);
});

describe('GET and validate', () => {
  it('GET /policy shows the file policy: source, hash, no version, its text', async () => {
    fileHash = a.runtime.policy.current().hash;
    const res = await request(a.app).get('/admin/v1/policy').set('authorization', auditor).expect(200);
    assert.deepEqual(res.body, { source: 'file', hash: fileHash, version: null, text: FILE_POLICY, rules: 0 });
  });

  it('validate names every schema problem by field, with 400 { ok: false, errors }', async () => {
    const bad = 'version: 1\nrules:\n  - { name: a, images: ["reg/**"], mode: sometimes }\n  - { name: "no spaces", images: [] }\n';
    const res = await request(a.app).post('/admin/v1/policy/validate').set('authorization', km).send(bad).expect(400);
    assert.equal(res.body.ok, false);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    assert.deepEqual(fields.sort(), ['rules[0].mode', 'rules[1].images', 'rules[1].name']);
    assert.ok(res.body.errors.every((e: { message: string }) => e.message.length > 0));
  });

  it('validate reports YAML syntax and compile problems (patterns, thresholds) too', async () => {
    const syntax = await request(a.app)
      .post('/admin/v1/policy/validate')
      .set('authorization', km)
      .send('version: 1\nrules: [\n')
      .expect(400);
    assert.equal(syntax.body.errors[0].field, '');
    assert.match(syntax.body.errors[0].message, /not valid YAML at line/);
    assert.equal(typeof syntax.body.errors[0].line, 'number');
    const threshold = 'version: 1\nrules:\n  - { name: t, images: ["reg/**"], signatures: { trust: [one], threshold: 2 } }\n';
    const compiled = await request(a.app).post('/admin/v1/policy/validate').set('authorization', auditor).send(threshold).expect(400);
    assert.deepEqual(compiled.body.errors, [
      { field: 'rules[0].signatures.threshold', message: '2 signers needed but only 1 trusted', line: 3 },
    ]);
    const pattern = await request(a.app)
      .post('/admin/v1/policy/validate')
      .set('authorization', km)
      .send('version: 1\nrules:\n  - { name: p, images: ["reg//x"] }\n')
      .expect(400);
    assert.equal(pattern.body.errors[0].field, 'rules[0].images[0]');
  });

  it('a valid text › 200 { ok, hash, rules }, and nothing is applied', async () => {
    const res = await request(a.app).post('/admin/v1/policy/validate').set('authorization', km).send(OPEN).expect(200);
    assert.equal(res.body.ok, true);
    assert.match(res.body.hash, /^[0-9a-f]{16}$/);
    assert.equal(res.body.rules, 1);
    assert.equal(a.runtime.policy.origin().source, 'file');
    assert.notEqual(a.runtime.policy.current().hash, res.body.hash);
  });
});

describe('PUT, on every replica', () => {
  let openHash = '';
  it('PUT on A › 200 { hash, version }, and B allows what it denied within a second', async () => {
    assert.equal(await pull(b), 403);
    const res = await put(a, OPEN).expect(200);
    assert.deepEqual(Object.keys(res.body).sort(), ['hash', 'version']);
    assert.equal(res.body.version, 1);
    openHash = res.body.hash;
    assert.equal(a.runtime.policy.current().hash, openHash, 'A runs it when PUT answers');
    assert.equal(await pull(a), 200);
    assert.ok((await until(b, 200)) < 1000);
    const shown = (await request(b.app).get('/admin/v1/policy').set('authorization', auditor).expect(200)).body;
    assert.equal(shown.source, 'api');
    assert.equal(shown.version, 1);
    assert.equal(shown.hash, openHash);
    assert.equal(shown.text, OPEN);
    assert.equal(shown.appliedBy, 'kim');
  });

  it('a bad text › 400 { ok: false, errors }, nothing changes', async () => {
    const res = await put(b, 'version: 2\nrules: []\n').expect(400);
    assert.equal(res.body.ok, false);
    assert.equal(res.body.errors[0].field, 'version');
    assert.equal(a.runtime.policy.origin().version, 1);
    assert.equal(b.runtime.policy.origin().version, 1);
  });

  it('a policy file change while an API policy is active › logged, and the API policy stays', async () => {
    a.files.writePolicy(OPEN.replace('api-open', 'file-open'));
    assert.equal(a.runtime.policy.reload(), true);
    assert.equal(a.runtime.policy.origin().source, 'api');
    assert.equal(a.runtime.policy.current().hash, openHash);
    assert.ok(a.logs.records.some((r) => (r.record as { event?: string }).event === 'policy_file_ignored'));
  });

  it('a replica started later runs the API policy, not its file', async () => {
    const c = await adminApp(yaml(), { redisPrefix: prefix, policy: FILE_POLICY, tokens: a.tokens });
    try {
      assert.deepEqual({ ...c.runtime.policy.origin(), time: undefined }, { source: 'api', version: 1, actor: 'kim', time: undefined });
      assert.equal(await pull(c), 200);
    } finally {
      await c.close();
    }
  });
});

describe('rollback', () => {
  it('PUT v2 on B closes A; rollback on A re-applies v1 on both; again › 409 (nothing earlier)', async () => {
    const v2 = await put(b, CLOSED).expect(200);
    assert.equal(v2.body.version, 2);
    await until(a, 403);
    const rolled = await request(a.app).post('/admin/v1/policy/rollback').set('authorization', km).expect(200);
    assert.equal(rolled.body.version, 1);
    assert.equal(rolled.body.rolledBackFrom, 2);
    assert.equal(rolled.body.hash, a.runtime.policy.current().hash);
    assert.equal(await pull(a), 200);
    await until(b, 200);
    assert.equal(b.runtime.policy.origin().version, 1);
    const again = await request(b.app).post('/admin/v1/policy/rollback').set('authorization', km).expect(409);
    assert.match(again.body.errors[0].message, /version 1 is the first policy applied through the admin API/);
  });

  it('every change is audited with the hashes and versions before and after, failures too', async () => {
    const log = (await request(a.app).get('/admin/v1/audit?action=policy.*').set('authorization', auditor).expect(200)).body;
    const lines = log.entries.map((e: { action: string; outcome: string; actor: string }) => `${e.action} ${e.outcome} ${e.actor}`);
    assert.deepEqual(lines, [
      'policy.rollback error kim',
      'policy.rollback ok kim',
      'policy.apply ok kim',
      'policy.apply error kim',
      'policy.apply ok kim',
    ]);
    const [, rollback, second, refused, first] = log.entries;
    assert.deepEqual(first.before, { source: 'file', hash: fileHash, version: null });
    assert.deepEqual(first.after, { source: 'api', hash: second.before.hash, version: 1 });
    assert.equal(second.before.version, 1);
    assert.equal(second.after.version, 2);
    assert.deepEqual(rollback.before, { ...second.after, appliedBy: 'kim', appliedAt: rollback.before.appliedAt });
    assert.deepEqual(rollback.after, { source: 'api', hash: first.after.hash, version: 1, rolledBackFrom: 2 });
    assert.match(refused.message, /policy refused: version/);
    assert.equal(first.target, 'policy');
    assert.doesNotMatch(JSON.stringify(log.entries), /api-closed/, 'the audit log holds hashes, not policy text');
  });
});

describe('Redis losing the API policy', () => {
  it('the replicas keep running it and write it back', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      await redis.del(`${prefix}policy:head`, `${prefix}policy:versions`);
      await redis.publish(`${prefix}policy:changed`, '0');
      let active: string | null = null;
      for (let i = 0; i < 40 && active === null; i += 1) {
        await new Promise((r) => setTimeout(r, 25));
        active = await redis.hget(`${prefix}policy:head`, 'active');
      }
      assert.equal(active, '1');
      assert.equal(JSON.parse((await redis.hget(`${prefix}policy:versions`, '1')) ?? '{}').text, OPEN);
      assert.equal(await pull(a), 200);
      assert.equal(b.runtime.policy.origin().version, 1);
      assert.ok([...a.logs.records, ...b.logs.records].some((r) => (r.record as { event?: string }).event === 'policy_restored'));
    } finally {
      redis.disconnect();
    }
  });
});

describe('an API policy this version cannot compile', () => {
  it('a replica refuses to start, naming the version and the field, rather than run its file', async () => {
    const other = testPrefix('policy-bad');
    const redis = createRedis(REDIS_URL);
    const subscriber = createRedis(REDIS_URL);
    try {
      await Promise.all([connectRedis(redis), connectRedis(subscriber)]);
      const versions = redisPolicyVersions(redis, other);
      await versions.put({ text: 'version: 1\nrules:\n  - { name: x, images: ["a//b"] }\n', hash: 'x', actor: 'kim', time: Date.now() });
      const holder = new PolicyHolder(
        () => parsePolicy(FILE_POLICY, 'policy.yaml', () => {}),
        noopLogger,
        policyText(() => undefined),
      );
      await assert.rejects(
        followApiPolicy({ holder, versions, redis, subscriber, logger: noopLogger, now: Date.now }),
        /admin API policy v1: rules\[0\]\.images\[0\]: invalid image pattern/,
      );
      assert.equal(holder.origin().source, 'file');
    } finally {
      redis.disconnect();
      subscriber.disconnect();
      await deleteRedisKeys(other);
    }
  });
});

describe('roles', () => {
  it('scanner › 403 on every policy route; auditor › 403 on changes', async () => {
    const scanner = await a.bearer('scan-bot', ['scanner']);
    for (const call of [
      request(a.app).get('/admin/v1/policy').set('authorization', scanner),
      request(a.app).post('/admin/v1/policy/validate').set('authorization', scanner).send(OPEN),
      request(a.app).put('/admin/v1/policy').set('authorization', scanner).send(OPEN),
      request(a.app).post('/admin/v1/policy/rollback').set('authorization', scanner),
      request(a.app).put('/admin/v1/policy').set('authorization', auditor).send(OPEN),
      request(a.app).post('/admin/v1/policy/rollback').set('authorization', auditor),
    ]) {
      assert.equal((await call).status, 403);
    }
    const denied = (await request(a.app).get('/admin/v1/audit?actor=scan-bot').set('authorization', auditor).expect(200)).body.entries;
    assert.deepEqual(
      denied.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`),
      ['policy.rollback denied', 'policy.apply denied', 'policy.validate denied', 'policy.read denied'],
    );
  });
});

describe('without Redis', () => {
  let solo: AdminApp;
  before(async () => {
    solo = await adminApp(offlineUpstream(), { policy: FILE_POLICY });
  });
  after(async () => solo?.close());

  it('PUT and rollback › 409 (not durable), audited; GET and validate still work', async () => {
    const kim = await solo.bearer('kim', ['key-manager']);
    const putRes = await request(solo.app).put('/admin/v1/policy').set('authorization', kim).send(OPEN).expect(409);
    assert.match(putRes.body.errors[0].message, /policy changes through the admin API need redis\.url/);
    await request(solo.app).post('/admin/v1/policy/rollback').set('authorization', kim).expect(409);
    await request(solo.app).post('/admin/v1/policy/validate').set('authorization', kim).send(OPEN).expect(200);
    const shown = await request(solo.app).get('/admin/v1/policy').set('authorization', kim).expect(200);
    assert.equal(shown.body.source, 'file');
    assert.equal(solo.runtime.policy.current().rules.length, 0);
    const log = (
      await request(solo.app)
        .get('/admin/v1/audit?action=policy.*')
        .set('authorization', await solo.bearer('audrey', ['auditor']))
        .expect(200)
    ).body;
    assert.deepEqual(
      log.entries.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`),
      ['policy.rollback error', 'policy.apply error'],
    );
  });
});
