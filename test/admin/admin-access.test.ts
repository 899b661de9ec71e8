import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, spki } from './key-material.ts';

const prefix = testPrefix('admin-access');
let app: AdminApp;

type Method = 'get' | 'post' | 'patch';
interface Route {
  readonly method: Method;
  readonly path: string;
  readonly action: string;
  readonly target: string;
  readonly allowed: readonly string[];
}

const CHANGE = ['admin', 'key-manager'];
const READ = ['admin', 'key-manager', 'auditor'];
const ROUTES: readonly Route[] = [
  { method: 'get', path: '/keys', action: 'key.list', target: '/admin/v1/keys', allowed: READ },
  { method: 'get', path: '/keys/held', action: 'key.read', target: 'held', allowed: READ },
  { method: 'post', path: '/keys', action: 'key.add', target: '/admin/v1/keys', allowed: CHANGE },
  { method: 'patch', path: '/keys/held', action: 'key.update', target: 'held', allowed: CHANGE },
  { method: 'post', path: '/keys/held/revoke', action: 'key.revoke', target: 'held', allowed: CHANGE },
  { method: 'post', path: '/keys/held/rotate', action: 'key.rotate', target: 'held', allowed: CHANGE },
  { method: 'get', path: '/audit', action: 'audit.read', target: '/admin/v1/audit', allowed: ['admin', 'auditor'] },
];
const ROLES = ['admin', 'key-manager', 'auditor', 'scanner'];

const lastEntry = async (actor: string): Promise<Record<string, unknown> | undefined> => {
  const res = await request(app.app)
    .get(`/admin/v1/audit?limit=1&actor=${encodeURIComponent(actor)}`)
    .set('authorization', await app.bearer('audit-reader', ['auditor']))
    .expect(200);
  return res.body.entries[0];
};

before(async () => {
  app = await adminApp(offlineUpstream(REDIS_URL), {
    redisPrefix: prefix,
    keys: [{ id: 'held', pem: spki(ec('P-256').publicKey), scopes: ['registry.example/**'] }],
  });
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
});

describe('admin key and audit routes › who may call them', () => {
  for (const route of ROUTES) {
    for (const role of ROLES) {
      const allowed = route.allowed.includes(role);
      it(`${route.method.toUpperCase()} ${route.path} as ${role} › ${allowed ? 'passes the role check' : '403, audited as denied'}`, async () => {
        const actor = `${role}-${route.method}-${route.path}`;
        // An empty body: an allowed change then fails validation (400), never the role check.
        const res = await request(app.app)
          [route.method](`/admin/v1${route.path}`)
          .set('authorization', await app.bearer(actor, [role]))
          .send({});
        if (allowed) {
          assert.ok(res.status !== 401 && res.status !== 403, `status ${res.status}`);
          return;
        }
        assert.equal(res.status, 403);
        assert.match(res.body.errors[0].message, /this needs the role/);
        const entry = await lastEntry(actor);
        assert.deepEqual(
          { ...entry, id: undefined, time: undefined, requestId: undefined },
          {
            id: undefined,
            time: undefined,
            requestId: undefined,
            actor,
            roles: [role],
            action: route.action,
            target: route.target,
            outcome: 'denied',
            message: res.body.errors[0].message,
          },
        );
        assert.equal(entry?.['requestId'], res.headers['x-request-id']);
      });
    }
    it(`${route.method.toUpperCase()} ${route.path} without a token, or with a bad one › 401, audited as denied and unauthenticated`, async () => {
      const res = await request(app.app)[route.method](`/admin/v1${route.path}`).send({});
      assert.equal(res.status, 401);
      assert.match(res.headers['www-authenticate'] ?? '', /^Bearer /);
      const entry = await lastEntry('(unauthenticated)');
      assert.equal(entry?.['action'], route.action);
      assert.equal(entry?.['outcome'], 'denied');
      assert.equal(entry?.['requestId'], res.headers['x-request-id']);
      const forged = `${await app.tokens.mint('mallory', ['admin'], { audience: 'elsewhere' })}`;
      await request(app.app)[route.method](`/admin/v1${route.path}`).set('authorization', `Bearer ${forged}`).send({}).expect(401);
      const again = await lastEntry('(unauthenticated)');
      assert.match(String(again?.['message']), /the token was refused/);
      assert.doesNotMatch(JSON.stringify(again), /eyJ/, 'never the token');
    });
  }

  it('POST /scans as a key-manager › 403, audited as scan.post denied', async () => {
    await request(app.app)
      .post('/admin/v1/scans?image=127.0.0.1:9/x@sha256:' + 'a'.repeat(64))
      .set('authorization', await app.bearer('km-scans', ['key-manager']))
      .send('{}')
      .expect(403);
    const entry = await lastEntry('km-scans');
    assert.equal(entry?.['action'], 'scan.post');
    assert.equal(entry?.['target'], `127.0.0.1:9/x@sha256:${'a'.repeat(64)}`);
  });

  it('POST /scans refused for its report › audited as scan.post error, by the scanner', async () => {
    await request(app.app)
      .post('/admin/v1/scans?image=not-an-image')
      .set('authorization', await app.bearer('ci-scanner', ['scanner']))
      .send('{}')
      .expect(400);
    const entry = await lastEntry('ci-scanner');
    assert.equal(entry?.['action'], 'scan.post');
    assert.equal(entry?.['outcome'], 'error');
    assert.match(String(entry?.['message']), /query "image" must be/);
  });
});

describe('GET /admin/v1/audit', () => {
  it('pages newest first with limit and the next cursor, filtered by actor and action', async () => {
    const km = await app.bearer('pager', ['key-manager']);
    for (const id of ['p1', 'p2', 'p3'])
      await request(app.app)
        .post('/admin/v1/keys')
        .set('authorization', km)
        .send({ id, pem: spki(ec('P-256').publicKey), scopes: ['registry.example/**'] })
        .expect(201);
    await request(app.app).post('/admin/v1/keys/p2/revoke').set('authorization', km).send({ reason: 'test' }).expect(200);
    const auditor = await app.bearer('audrey', ['auditor']);
    const first = await request(app.app).get('/admin/v1/audit?actor=pager&limit=2').set('authorization', auditor).expect(200);
    assert.deepEqual(
      first.body.entries.map((e: { action: string; target: string }) => `${e.action} ${e.target}`),
      ['key.revoke p2', 'key.add p3'],
    );
    assert.match(first.body.entries[0].time, /^\d{4}-\d\d-\d\dT/);
    const second = await request(app.app)
      .get(`/admin/v1/audit?actor=pager&limit=2&after=${first.body.next}`)
      .set('authorization', auditor)
      .expect(200);
    assert.deepEqual(
      second.body.entries.map((e: { target: string }) => e.target),
      ['p2', 'p1'],
    );
    const third = await request(app.app)
      .get(`/admin/v1/audit?actor=pager&limit=2&after=${second.body.next}`)
      .set('authorization', auditor)
      .expect(200);
    assert.deepEqual(third.body, { entries: [] });
    const adds = await request(app.app).get('/admin/v1/audit?actor=pager&action=key.add').set('authorization', auditor).expect(200);
    assert.equal(adds.body.entries.length, 3);
    const keyActions = await request(app.app).get('/admin/v1/audit?actor=pager&action=key.*').set('authorization', auditor).expect(200);
    assert.equal(keyActions.body.entries.length, 4);
  });

  it('refuses a bad limit or cursor with 400', async () => {
    const auditor = await app.bearer('audrey', ['auditor']);
    await request(app.app).get('/admin/v1/audit?limit=0').set('authorization', auditor).expect(400);
    await request(app.app).get('/admin/v1/audit?limit=1001').set('authorization', auditor).expect(400);
    await request(app.app).get('/admin/v1/audit?after=yesterday').set('authorization', auditor).expect(400);
  });
});
