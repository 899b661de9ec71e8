import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// Policy history and versions (the console's diff and rollback), and validation errors at their
// line, on an app with Redis; and what an app without Redis answers.
const prefix = testPrefix('policy-history');
const text = (n: number): string => `version: 1\n# version ${n}\nrules:\n  - { name: r${n}, images: ["registry.example/**"], mode: off }\n`;
let app: AdminApp;
let memory: AdminApp;
let km: string;
let auditor: string;
let scanner: string;

const put = (body: string, who = 'kim') =>
  app
    .bearer(who, ['key-manager'])
    .then((auth) => request(app.app).put('/admin/v1/policy').set('authorization', auth).send(body).expect(200));
const get = (path: string, auth = auditor, on = app) => request(on.app).get(`/admin/v1${path}`).set('authorization', auth);

before(async () => {
  app = await adminApp(offlineUpstream(REDIS_URL), { redisPrefix: prefix });
  memory = await adminApp(offlineUpstream(), { tokens: app.tokens });
  km = await app.bearer('kim', ['key-manager']);
  auditor = await app.bearer('audrey', ['auditor']);
  scanner = await app.bearer('scan', ['scanner']);
});
after(async () => {
  await app?.close();
  await memory?.close();
  await deleteRedisKeys(prefix);
});

describe('GET /admin/v1/policy/history and /policy/versions/<n>', () => {
  it('lists nothing before a policy is applied through the API', async () => {
    const res = (await get('/policy/history').expect(200)).body;
    assert.deepEqual(res, { source: 'file', hash: app.runtime.policy.current().hash, activeVersion: null, durable: true, versions: [] });
  });

  it('lists every applied version newest first, with hash, author and time, and marks the active one after a rollback', async () => {
    const hashes: string[] = [];
    for (const [n, who] of [
      [1, 'kim'],
      [2, 'ben'],
      [3, 'kim'],
    ] as const)
      hashes.push((await put(text(n), who)).body.hash);
    await request(app.app).post('/admin/v1/policy/rollback').set('authorization', km).expect(200);
    const res = (await get('/policy/history').expect(200)).body;
    assert.equal(res.source, 'api');
    assert.equal(res.activeVersion, 2);
    assert.deepEqual(
      res.versions.map((v: { version: number; hash: string; actor: string; previous: number | null; active: boolean }) => [
        v.version,
        v.hash,
        v.actor,
        v.previous,
        v.active,
      ]),
      [
        [3, hashes[2], 'kim', 2, false],
        [2, hashes[1], 'ben', 1, true],
        [1, hashes[0], 'kim', null, false],
      ],
    );
    assert.match(res.versions[0].time, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(res.versions[0].text, undefined, 'the history holds no texts');
  });

  it('pages with limit and before', async () => {
    const first = (await get('/policy/history?limit=2').expect(200)).body;
    assert.deepEqual(
      first.versions.map((v: { version: number }) => v.version),
      [3, 2],
    );
    assert.equal(first.next, 2);
    const second = (await get(`/policy/history?limit=2&before=${first.next}`).expect(200)).body;
    assert.deepEqual(
      second.versions.map((v: { version: number }) => v.version),
      [1],
    );
    assert.equal(second.next, undefined);
  });

  it('gives one version with its text, for a diff against the active one', async () => {
    const res = (await get('/policy/versions/1').expect(200)).body;
    assert.equal(res.text, text(1));
    assert.equal(res.version, 1);
    assert.equal(res.active, false);
    assert.equal((await get('/policy/versions/2', km).expect(200)).body.active, true);
    await get('/policy/versions/99').expect(404);
    for (const bad of ['0', 'x', '1.5']) assert.equal((await get(`/policy/versions/${bad}`)).status, 400, bad);
    for (const bad of ['limit=0', 'limit=101', 'before=x']) assert.equal((await get(`/policy/history?${bad}`)).status, 400, bad);
  });

  it('is refused to a scanner (403, audited)', async () => {
    await get('/policy/history', scanner).expect(403);
    await get('/policy/versions/1', scanner).expect(403);
    const denied = (await get('/audit?action=policy.*&outcome=denied').expect(200)).body.entries.map((e: { action: string }) => e.action);
    assert.deepEqual(denied, ['policy.version.read', 'policy.history.read']);
  });

  it('without Redis: no history (not durable), and no version is found', async () => {
    const res = (await get('/policy/history', auditor, memory).expect(200)).body;
    assert.equal(res.durable, false);
    assert.deepEqual(res.versions, []);
    await get('/policy/versions/1', auditor, memory).expect(404);
  });
});

describe('POST /admin/v1/policy/validate › errors at their line', () => {
  it('gives each schema and compile problem the line of the field it names', async () => {
    const bad = 'version: 1\nrules:\n  - name: a\n    images: ["reg/**"]\n    mode: sometimes\n  - name: b\n    images: []\n';
    const res = await request(app.app).post('/admin/v1/policy/validate').set('authorization', km).send(bad).expect(400);
    const lines = Object.fromEntries(res.body.errors.map((e: { field: string; line: number }) => [e.field, e.line]));
    assert.equal(lines['rules[0].mode'], 5);
    assert.equal(lines['rules[1].images'], 7);
    const syntax = await request(app.app)
      .post('/admin/v1/policy/validate')
      .set('authorization', km)
      .send('version: 1\nrules:\n  - [\n')
      .expect(400);
    assert.equal(syntax.body.errors[0].field, '');
    assert.ok(syntax.body.errors[0].line >= 3, JSON.stringify(syntax.body.errors));
    const applied = await request(app.app).put('/admin/v1/policy').set('authorization', km).send(bad).expect(400);
    assert.equal(applied.body.errors.find((e: { field: string }) => e.field === 'rules[0].mode').line, 5);
  });
});
