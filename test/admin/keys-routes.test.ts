import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { makeNotationPki } from '../kit/index.ts';
import { ec, fingerprint, rsa, spki } from './key-material.ts';

const prefix = testPrefix('keys-api');
const fileKey = ec('P-256');
let app: AdminApp;
let km: string;
let auditor: string;

const SCOPE = 'registry.example/team/**';
const post = (path: string, body: unknown, auth = km) =>
  request(app.app)
    .post(`/admin/v1${path}`)
    .set('authorization', auth)
    .send(body as object);
const audit = async (query: string) =>
  (await request(app.app).get(`/admin/v1/audit?${query}`).set('authorization', auditor).expect(200)).body as {
    entries: Record<string, unknown>[];
    next?: string;
  };

before(async () => {
  app = await adminApp(offlineUpstream(REDIS_URL), {
    redisPrefix: prefix,
    keys: [{ id: 'filekey', pem: spki(fileKey.publicKey), scopes: ['registry.example/**'] }],
  });
  km = await app.bearer('kim', ['key-manager']);
  auditor = await app.bearer('audrey', ['auditor']);
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
});

describe('POST /admin/v1/keys', () => {
  it('adds a key: 201 with its public view and SPKI fingerprint, origin api, and the change is audited without the PEM', async () => {
    const key = ec('P-256');
    const res = await post('/keys', { id: 'ci', pem: spki(key.publicKey), scopes: [SCOPE], notAfter: '2040-01-01T00:00:00Z' }).expect(201);
    assert.deepEqual(res.body, {
      id: 'ci',
      kind: 'key',
      scopes: [SCOPE],
      purposes: ['sign'],
      notAfter: '2040-01-01T00:00:00.000Z',
      origin: 'api',
      status: 'active',
      fingerprint: fingerprint(key.publicKey),
    });
    const listed = (await request(app.app).get('/admin/v1/keys').set('authorization', auditor).expect(200)).body;
    assert.equal(listed.durable, true);
    assert.deepEqual(
      listed.keys.map((k: { id: string; origin: string }) => `${k.id}:${k.origin}`),
      ['ci:api', 'filekey:file'],
    );
    const one = (await request(app.app).get('/admin/v1/keys/ci').set('authorization', km).expect(200)).body;
    assert.equal(one.validNow, true);
    assert.ok(app.runtime.trust.snapshot().entries.some((e) => e.id === 'ci' && e.origin === 'api'));
    const [entry] = (await audit('action=key.add&limit=1')).entries;
    assert.equal(entry?.['actor'], 'kim');
    assert.equal(entry?.['target'], 'ci');
    assert.equal(entry?.['outcome'], 'ok');
    assert.deepEqual(entry?.['after'], res.body);
    assert.doesNotMatch(JSON.stringify(entry), /BEGIN PUBLIC KEY/);
  });

  it('accepts ECDSA P-256/384/521, RSA 2048, Ed25519 and a notation root certificate', async () => {
    const pki = await makeNotationPki({});
    const accepted: [string, string, string?][] = [
      ['p384', spki(ec('P-384').publicKey)],
      ['p521', spki(ec('P-521').publicKey)],
      ['rsa2048', spki(rsa(2048).publicKey)],
      ['ed25519', spki(generateKeyPairSync('ed25519').publicKey)],
      ['root', pki.root.certPem, 'notation-root'],
    ];
    for (const [id, pem, kind] of accepted) {
      const res = await post('/keys', { id, pem, scopes: [SCOPE], ...(kind === undefined ? {} : { kind }) });
      assert.equal(res.status, 201, `${id}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.fingerprint, /^sha256:[0-9a-f]{64}$/);
    }
  });

  it('refuses weak or unknown algorithms, a wrong kind, an unparsable PEM and a bad body with 400 naming the problem', async () => {
    const weakRoot = await makeNotationPki({ root: { key: 'rsa-1024' } });
    const cases: [unknown, RegExp][] = [
      [{ id: 'rsa1024', pem: spki(rsa(1024).publicKey), scopes: [SCOPE] }, /at least 2048 bits/],
      [{ id: 'k1', pem: spki(ec('secp256k1').publicKey), scopes: [SCOPE] }, /curve secp256k1 is not accepted/],
      [{ id: 'ed448', pem: spki(generateKeyPairSync('ed448').publicKey), scopes: [SCOPE] }, /ed448 keys are not accepted/],
      [{ id: 'weakroot', kind: 'notation-root', pem: weakRoot.root.certPem, scopes: [SCOPE] }, /at least 2048 bits/],
      [{ id: 'certaskey', pem: weakRoot.root.certPem, scopes: [SCOPE] }, /needs exactly one PEM block: -----BEGIN PUBLIC KEY-----/],
      [{ id: 'junk', pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', scopes: [SCOPE] }, /not a valid public key/],
      [
        { id: 'junkroot', kind: 'notation-root', pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', scopes: [SCOPE] },
        /not a valid certificate/,
      ],
      [{ id: 'Upper', pem: spki(ec('P-256').publicKey), scopes: [SCOPE] }, /"id": must be lowercase/],
      [{ id: 'noscope', pem: spki(ec('P-256').publicKey), scopes: [] }, /"scopes"/],
      [{ id: 'badscope', pem: spki(ec('P-256').publicKey), scopes: ['a//b'] }, /"scopes\[0\]": invalid image pattern/],
      [
        {
          id: 'window',
          pem: spki(ec('P-256').publicKey),
          scopes: [SCOPE],
          notBefore: '2030-01-01T00:00:00Z',
          notAfter: '2029-01-01T00:00:00Z',
        },
        /later than "notBefore"/,
      ],
      [{ id: 'extra', pem: spki(ec('P-256').publicKey), scopes: [SCOPE], origin: 'file' }, /origin/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/keys', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(res.body.errors[0].message, message);
    }
    const res = await request(app.app)
      .post('/admin/v1/keys')
      .set('authorization', km)
      .set('content-type', 'application/json')
      .send('{"id": ');
    assert.equal(res.status, 400);
    assert.deepEqual(
      app.runtime.trust
        .snapshot()
        .entries.filter((e) => ['rsa1024', 'k1', 'ed448', 'weakroot', 'certaskey', 'junk', 'window'].includes(e.id)),
      [],
    );
    const failed = (await audit('action=key.add&limit=20')).entries.filter((e) => e['outcome'] === 'error');
    assert.ok(failed.some((e) => e['target'] === 'rsa1024' && /2048/.test(String(e['message']))));
  });

  it('an id already in use, or revoked, is a 409', async () => {
    await post('/keys', { id: 'ci', pem: spki(ec('P-256').publicKey), scopes: [SCOPE] }).expect(409);
    await post('/keys', { id: 'filekey', pem: spki(ec('P-256').publicKey), scopes: [SCOPE] }).expect(409);
    await app.runtime.trust.revoke('burnt', 'pre-emptively revoked', Date.now());
    const res = await post('/keys', { id: 'burnt', pem: spki(ec('P-256').publicKey), scopes: [SCOPE] }).expect(409);
    assert.match(res.body.errors[0].message, /revoked id is never reused/);
  });
});

describe('PATCH /admin/v1/keys/<id>', () => {
  it('changes scopes, purposes and the validity window; null clears a bound; audited before and after', async () => {
    const res = await request(app.app)
      .patch('/admin/v1/keys/ci')
      .set('authorization', km)
      .send({ scopes: ['registry.example/other/**'], purposes: ['sign', 'scan'], notBefore: '2020-01-01T00:00:00Z', notAfter: null })
      .expect(200);
    assert.deepEqual(res.body.scopes, ['registry.example/other/**']);
    assert.deepEqual(res.body.purposes, ['sign', 'scan']);
    assert.equal(res.body.notBefore, '2020-01-01T00:00:00.000Z');
    assert.equal(res.body.notAfter, undefined);
    const [entry] = (await audit('action=key.update&limit=1')).entries;
    assert.equal((entry?.['before'] as { notAfter: string }).notAfter, '2040-01-01T00:00:00.000Z');
    assert.deepEqual(entry?.['after'], res.body);
  });

  it('404 for an unknown id, 400 for an empty or bad patch', async () => {
    await request(app.app)
      .patch('/admin/v1/keys/nope')
      .set('authorization', km)
      .send({ scopes: [SCOPE] })
      .expect(404);
    await request(app.app).patch('/admin/v1/keys/ci').set('authorization', km).send({}).expect(400);
    await request(app.app)
      .patch('/admin/v1/keys/ci')
      .set('authorization', km)
      .send({ notBefore: '2050-01-01T00:00:00Z', notAfter: '2049-01-01T00:00:00Z' })
      .expect(400);
  });
});

describe('which wins between keys/ and the API', () => {
  it('a key changed through the API keeps its API state through a reload of keys/, which says so in the log', async () => {
    await request(app.app)
      .patch('/admin/v1/keys/filekey')
      .set('authorization', km)
      .send({ scopes: ['registry.example/api-set/**'] })
      .expect(200);
    app.files.writeKey({ id: 'filekey', pem: spki(fileKey.publicKey), scopes: ['registry.example/file-set/**'] });
    app.files.writeKey({ id: 'another', pem: spki(ec('P-256').publicKey), scopes: ['registry.example/file-set/**'] });
    await app.runtime.reloadKeys();
    const entries = app.runtime.trust.snapshot().entries;
    assert.deepEqual(entries.find((e) => e.id === 'filekey')?.scopes, ['registry.example/api-set/**']);
    assert.equal(entries.find((e) => e.id === 'filekey')?.origin, 'api');
    assert.deepEqual(entries.find((e) => e.id === 'another')?.scopes, ['registry.example/file-set/**'], 'new file entries still load');
    const ignored = app.logs.records.find((r) =>
      /keys\/ entries ignored: these ids were created or changed through the admin API/.test(r.message ?? ''),
    );
    assert.deepEqual(ignored?.record, { ids: ['filekey'] });
  });
});

describe('POST /admin/v1/keys/<id>/revoke', () => {
  it('revokes (sticky): the entry shows revoked, a second revoke or a change is a 409, keys/ cannot bring it back', async () => {
    const res = await post('/keys/another/revoke', { reason: 'leaked in CI logs' }).expect(200);
    assert.equal(res.body.status, 'revoked');
    assert.equal(res.body.reason, 'leaked in CI logs');
    assert.ok(app.runtime.trust.snapshot().revocations.some((r) => r.id === 'another'));
    await post('/keys/another/revoke', { reason: 'again' }).expect(409);
    await request(app.app)
      .patch('/admin/v1/keys/another')
      .set('authorization', km)
      .send({ scopes: [SCOPE] })
      .expect(409);
    await app.runtime.reloadKeys();
    assert.ok(app.runtime.trust.snapshot().revocations.some((r) => r.id === 'another'));
    const view = (await request(app.app).get('/admin/v1/keys/another').set('authorization', auditor).expect(200)).body;
    assert.equal(view.validNow, false);
    const entry = (await audit('action=key.revoke&limit=5')).entries.find((e) => e['outcome'] === 'ok');
    assert.equal((entry?.['before'] as { status: string }).status, 'active');
    assert.equal((entry?.['after'] as { status: string }).status, 'revoked');
  });

  it('needs a reason; 404 for an unknown id', async () => {
    await post('/keys/ci/revoke', {}).expect(400);
    await post('/keys/ci/revoke', { reason: '   ' }).expect(400);
    await post('/keys/nope/revoke', { reason: 'x' }).expect(404);
  });
});

describe('POST /admin/v1/keys/<id>/rotate', () => {
  it('adds the new key with the old scopes and purposes, and ends the old one at keepOldUntil', async () => {
    const next = ec('P-256');
    const keepOldUntil = new Date(Date.now() + 3_600_000).toISOString();
    const res = await post('/keys/ci/rotate', { newId: 'ci-2', pem: spki(next.publicKey), keepOldUntil }).expect(201);
    assert.equal(res.body.old.notAfter, keepOldUntil);
    assert.deepEqual(res.body.new.scopes, ['registry.example/other/**']);
    assert.deepEqual(res.body.new.purposes, ['sign', 'scan']);
    assert.equal(res.body.new.fingerprint, fingerprint(next.publicKey));
    const [entry] = (await audit('action=key.rotate&limit=1')).entries;
    assert.deepEqual(entry?.['after'], res.body);
  });

  it('refuses a keepOldUntil in the past, an id in use, and a revoked key', async () => {
    const pem = spki(ec('P-256').publicKey);
    await post('/keys/ci-2/rotate', { newId: 'ci-3', pem, keepOldUntil: '2001-01-01T00:00:00Z' }).expect(400);
    await post('/keys/ci-2/rotate', { newId: 'ci', pem, keepOldUntil: new Date(Date.now() + 60_000).toISOString() }).expect(409);
    await post('/keys/another/rotate', { newId: 'ci-3', pem, keepOldUntil: new Date(Date.now() + 60_000).toISOString() }).expect(409);
  });
});

describe('a private key offered as trust material', () => {
  it('is refused with 400 and is nowhere afterwards: not in Redis, not in the logs, not in the audit log', async () => {
    const { privatePems } = await import('./key-material.ts');
    const pems = privatePems();
    const publicThenPrivate = `${spki(ec('P-256').publicKey)}${pems[0]!.pem}`;
    for (const [i, { pem }] of [...pems, { pem: publicThenPrivate }].entries()) {
      const res = await post('/keys', { id: `leak${i}`, pem, scopes: [SCOPE] });
      assert.equal(res.status, 400);
      assert.match(res.body.errors[0].message, /private key/);
      await post('/keys/ci-2/rotate', { newId: `leakr${i}`, pem, keepOldUntil: new Date(Date.now() + 60_000).toISOString() }).expect(400);
    }
    const redis = new (await import('ioredis')).Redis(REDIS_URL);
    let dump = '';
    try {
      for (const key of await redis.keys(`${prefix}*`)) {
        const type = await redis.type(key);
        if (type === 'hash') dump += JSON.stringify(await redis.hgetall(key));
        else if (type === 'stream') dump += JSON.stringify(await redis.xrange(key, '-', '+'));
        else if (type === 'string') dump += (await redis.get(key)) ?? '';
      }
    } finally {
      redis.disconnect();
    }
    assert.match(dump, /leak0/, 'the refusal is audited under the key id');
    const auditLog = JSON.stringify((await audit('limit=1000')).entries);
    for (const { body } of pems) {
      for (const [where, text] of [
        ['redis', dump],
        ['logs', app.logs.text()],
        ['audit', auditLog],
      ] as const) {
        assert.ok(!text.includes(body), `private key material in ${where}`);
        assert.doesNotMatch(text, /PRIVATE KEY-----/, `private key armour in ${where}`);
      }
    }
    assert.ok(!app.runtime.trust.snapshot().entries.some((e) => e.id.startsWith('leak')));
  });
});
