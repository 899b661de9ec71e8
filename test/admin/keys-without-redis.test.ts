import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { ec, spki } from './key-material.ts';

let app: AdminApp;

before(async () => {
  app = await adminApp(offlineUpstream(), { keys: [{ id: 'filekey', pem: spki(ec('P-256').publicKey), scopes: ['registry.example/**'] }] });
});
after(async () => app?.close());

describe('key changes without Redis (memory trust store)', () => {
  it('every change answers 409 saying the store is not durable, changes nothing, and is audited', async () => {
    const km = await app.bearer('kim', ['key-manager']);
    const version = app.runtime.trust.snapshot().version;
    const later = new Date(Date.now() + 60_000).toISOString();
    const calls = [
      request(app.app)
        .post('/admin/v1/keys')
        .set('authorization', km)
        .send({ id: 'new', pem: spki(ec('P-256').publicKey), scopes: ['registry.example/**'] }),
      request(app.app)
        .patch('/admin/v1/keys/filekey')
        .set('authorization', km)
        .send({ scopes: ['registry.example/x/**'] }),
      request(app.app).post('/admin/v1/keys/filekey/revoke').set('authorization', km).send({ reason: 'r' }),
      request(app.app)
        .post('/admin/v1/keys/filekey/rotate')
        .set('authorization', km)
        .send({ newId: 'n2', pem: spki(ec('P-256').publicKey), keepOldUntil: later }),
    ];
    for (const call of calls) {
      const res = await call;
      assert.equal(res.status, 409);
      assert.match(res.body.errors[0].message, /^the trust store is not durable without Redis: configure redis\.url/);
    }
    assert.equal(app.runtime.trust.snapshot().version, version);
    assert.deepEqual(app.runtime.trust.snapshot().revocations, []);
    const auditor = await app.bearer('audrey', ['auditor']);
    const log = (await request(app.app).get('/admin/v1/audit?actor=kim').set('authorization', auditor).expect(200)).body;
    assert.deepEqual(
      log.entries.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`),
      ['key.rotate error', 'key.revoke error', 'key.update error', 'key.add error'],
    );
  });

  it('reads still work, and say the store is not durable', async () => {
    const res = await request(app.app)
      .get('/admin/v1/keys')
      .set('authorization', await app.bearer('audrey', ['auditor']))
      .expect(200);
    assert.equal(res.body.durable, false);
    assert.deepEqual(
      res.body.keys.map((k: { id: string; origin: string; status: string }) => `${k.id} ${k.origin} ${k.status}`),
      ['filekey file active'],
    );
  });
});
