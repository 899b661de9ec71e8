import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { minimalImage, serveImage, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// Break glass on two replicas sharing Redis, on a controlled clock, in front of a fake upstream
// serving one unsigned image that the policy denies.
const prefix = testPrefix('breakglass');
const HOUR = 3_600_000;
const image = minimalImage();
const CONFIG_DIGEST = image.configDigest;
const DIGEST = image.digest;
let clock = Date.now();
let upstream: FakeUpstream;
let a: AdminApp;
let b: AdminApp;
let km: string;
let auditor: string;

const policy = (host: string) => `version: 1\nrules:\n  - { name: signed, images: ["${host}/allowed/**"] }\n`;
const pull = async (app: AdminApp): Promise<number> => (await request(app.app).get('/v2/allowed/app/manifests/v1')).status;
const blob = async (app: AdminApp): Promise<number> => (await request(app.app).get(`/v2/allowed/app/blobs/${CONFIG_DIGEST}`)).status;
const iso = (ms: number): string => new Date(ms).toISOString();
const breakGlass = (app: AdminApp, body: object, auth = km) =>
  request(app.app).post('/admin/v1/breakglass').set('authorization', auth).send(body);

async function until(app: AdminApp, status: number, limitMs = 1000): Promise<void> {
  const started = Date.now();
  while ((await pull(app)) !== status) {
    if (Date.now() - started > limitMs) assert.fail(`no ${status} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

before(async () => {
  upstream = await startFakeUpstream();
  serveImage(upstream, 'allowed/app', 'v1', image);
  const yaml = singleUpstream(upstream.url, `redis: { url: "${REDIS_URL}" }\n`);
  a = await adminApp(yaml, { redisPrefix: prefix, policy: policy(upstream.host), now: () => clock });
  b = await adminApp(yaml, { redisPrefix: prefix, policy: policy(upstream.host), now: () => clock, tokens: a.tokens });
  km = await a.bearer('kim', ['key-manager']);
  auditor = await a.bearer('audrey', ['auditor']);
});
after(async () => {
  await a?.close();
  await b?.close();
  await upstream?.close();
  await deleteRedisKeys(prefix);
});

describe('break glass by pattern', () => {
  let id = '';
  let expires = 0;
  it('a denied image › allowed on both replicas once an entry covers it, its blobs too', async () => {
    assert.equal(await pull(a), 403);
    assert.equal(await pull(b), 403);
    assert.equal(await blob(a), 403);
    expires = clock + HOUR;
    const res = await breakGlass(a, {
      image: `${upstream.host}/allowed/**`,
      reason: 'INC-42: hotfix must ship',
      expires: iso(expires),
    }).expect(201);
    id = res.body.id;
    assert.match(id, /^bg-[0-9a-f]{12}$/);
    assert.equal(res.body.shared, true);
    assert.equal(await pull(a), 200, 'at once on the replica that took it');
    await until(b, 200);
    assert.equal(await blob(a), 200);
    assert.equal(await blob(b), 200);
  });

  it('shows in the decision log, the metrics, GET /breakglass, GET /decisions and the audit log', async () => {
    const message = `break glass "${id}" by kim until ${iso(expires)}: INC-42: hotfix must ship`;
    const logged = a.logs.records
      .map((r) => r.record as Record<string, unknown>)
      .filter((r) => r['event'] === 'decision' && r['outcome'] === 'allow');
    assert.deepEqual(
      { ...logged[0], ms: 0, requestId: '', clientAddress: '' },
      {
        event: 'decision',
        name: `${upstream.host}/allowed/app`,
        upstream: 'up',
        reference: 'v1',
        digest: DIGEST,
        method: 'GET',
        outcome: 'allow',
        rule: 'break-glass',
        reasons: ['break_glass'],
        ms: 0,
        requestId: '',
        clientAddress: '',
        subject: undefined,
      },
    );
    const metrics = (await request(a.app).get('/metrics').expect(200)).text;
    assert.match(metrics, /trustgate_decisions_total\{outcome="allow",reason="break_glass",rule="break-glass",upstream="up"\} 1\n/);
    const listed = (await request(b.app).get('/admin/v1/breakglass').set('authorization', auditor).expect(200)).body;
    assert.deepEqual(listed, {
      shared: true,
      entries: [
        {
          id,
          image: `${upstream.host}/allowed/**`,
          reason: 'INC-42: hotfix must ship',
          expires: iso(expires),
          actor: 'kim',
          createdAt: iso(clock),
        },
      ],
    });
    const decisions = (await request(b.app).get(`/admin/v1/decisions?digest=${DIGEST}`).set('authorization', auditor).expect(200)).body;
    assert.equal(decisions.from, 'redis');
    assert.deepEqual(decisions.decisions[0].reasons, [{ code: 'break_glass', message }]);
    assert.equal(decisions.decisions[0].notAfter, iso(expires), 'never cached past the expiry');
    assert.ok(
      decisions.decisions.some(
        (d: { outcome: string; reasons: { code: string }[] }) => d.outcome === 'deny' && d.reasons[0]?.code === 'unsigned',
      ),
    );
    const audit = (await request(a.app).get('/admin/v1/audit?action=breakglass.*').set('authorization', auditor).expect(200)).body.entries;
    const add = audit.find((e: { action: string }) => e.action === 'breakglass.add');
    assert.equal(add.target, id);
    assert.equal(add.actor, 'kim');
    const uses = audit.filter((e: { action: string }) => e.action === 'breakglass.use');
    assert.equal(uses.length, 2, 'the first use per replica');
    assert.deepEqual(uses[0].before, { rule: 'signed', reasons: ['unsigned'] });
    assert.equal(uses[0].target, `${upstream.host}/allowed/app@${DIGEST}`);
  });

  it('ends by itself at its expiry, at once on both replicas', async () => {
    clock = expires;
    assert.equal(await pull(a), 403);
    assert.equal(await pull(b), 403);
    const listed = (await request(a.app).get('/admin/v1/breakglass').set('authorization', km).expect(200)).body;
    assert.deepEqual(listed.entries, []);
  });
});

describe('break glass by digest', () => {
  it('another digest does not match; this digest does; DELETE ends it at once here and within a second there', async () => {
    await breakGlass(a, {
      image: `${upstream.host}/allowed/app@sha256:${'b'.repeat(64)}`,
      reason: 'other build',
      expires: iso(clock + HOUR),
    }).expect(201);
    assert.equal(await pull(a), 403);
    const { body } = await breakGlass(b, {
      image: `${upstream.host}/allowed/app@${DIGEST}`,
      reason: 'this build',
      expires: iso(clock + 2 * HOUR),
    }).expect(201);
    assert.equal(await pull(b), 200);
    await until(a, 200);
    const ended = await request(a.app).delete(`/admin/v1/breakglass/${body.id}`).set('authorization', km).expect(200);
    assert.equal(ended.body.endedBy, 'kim');
    assert.equal(await pull(a), 403, 'at once on the replica that ended it');
    await until(b, 403);
    await request(b.app).delete(`/admin/v1/breakglass/${body.id}`).set('authorization', km).expect(404);
    const audit = (await request(a.app).get('/admin/v1/audit?action=breakglass.end').set('authorization', auditor).expect(200)).body
      .entries;
    assert.deepEqual(
      audit.map((e: { outcome: string; target: string }) => `${e.outcome} ${e.target}`),
      [`error ${body.id}`, `ok ${body.id}`],
    );
    assert.equal(audit[1].before.reason, 'this build');
  });
});

describe('refusals', () => {
  it('a bad body › 400 naming the problem, nothing stored', async () => {
    const image = `${upstream.host}/allowed/**`;
    const cases: [object, RegExp][] = [
      [{ image, reason: 'r', expires: iso(clock + 8 * 24 * HOUR) }, /at most 7 days ahead/],
      [{ image, reason: 'r', expires: iso(clock - 1000) }, /in the future/],
      [{ image, reason: 'r', expires: 'tomorrow' }, /RFC 3339/],
      [{ image: '**', reason: 'r', expires: iso(clock + HOUR) }, /must start with a registry host/],
      [{ image: `${upstream.host}/allowed/app@sha256:xyz`, reason: 'r', expires: iso(clock + HOUR) }, /with a digest/],
      [{ image, reason: ' ', expires: iso(clock + HOUR) }, /"reason" is required/],
      [{ image, reason: 'r', expires: iso(clock + HOUR), mode: 'all' }, /unknown field "mode"/],
    ];
    const before = (await request(a.app).get('/admin/v1/breakglass').set('authorization', km)).body.entries.length;
    for (const [body, problem] of cases) {
      const res = await breakGlass(a, body).expect(400);
      assert.match(res.body.errors[0].message, problem);
    }
    assert.equal((await request(a.app).get('/admin/v1/breakglass').set('authorization', km)).body.entries.length, before);
  });

  it('scanner › 403 on every route; auditor › 403 on changes', async () => {
    const scanner = await a.bearer('scan-bot', ['scanner']);
    const body = { image: `${upstream.host}/allowed/**`, reason: 'r', expires: iso(clock + HOUR) };
    assert.equal((await request(a.app).get('/admin/v1/breakglass').set('authorization', scanner)).status, 403);
    assert.equal((await breakGlass(a, body, scanner)).status, 403);
    assert.equal((await breakGlass(a, body, auditor)).status, 403);
    assert.equal((await request(a.app).delete('/admin/v1/breakglass/bg-000000000000').set('authorization', auditor)).status, 403);
  });
});

describe('without Redis', () => {
  it('entries live in the replica that took them (shared: false)', async () => {
    const solo = await adminApp(singleUpstream(upstream.url), { policy: policy(upstream.host) });
    try {
      const kim = await solo.bearer('kim', ['key-manager']);
      assert.equal(await pull(solo), 403);
      const res = await request(solo.app)
        .post('/admin/v1/breakglass')
        .set('authorization', kim)
        .send({ image: `${upstream.host}/allowed/app`, reason: 'r', expires: iso(Date.now() + HOUR) })
        .expect(201);
      assert.equal(res.body.shared, false);
      assert.equal(await pull(solo), 200);
      const decisions = (await request(solo.app).get(`/admin/v1/decisions?digest=${DIGEST}`).set('authorization', kim).expect(200)).body;
      assert.equal(decisions.from, 'memory');
      assert.deepEqual(
        decisions.decisions.map((d: { rule: string }) => d.rule),
        ['break-glass', 'signed'],
      );
    } finally {
      await solo.close();
    }
  });
});
