// The admin API for the trust-entry kinds beyond public keys and notation roots: a sigstore-root (a
// trusted_root.json, or PEM roots and intermediates of a bring-your-own PKI) and an RFC 3161 `tsa` root.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { makeNotationTsa } from '../kit/notation-sign.ts';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, privatePems, spki } from './key-material.ts';

const prefix = testPrefix('keys-sigstore');
const SCOPE = 'registry.example/team/**';
const repoFile = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const PUBLIC_GOOD = JSON.parse(repoFile('config/sigstore/public-good.trusted_root.json')) as Record<string, unknown>;
const PKI_ROOT = repoFile('test/fixtures/containers-image/keys/pki_root_crts.pem');
const PKI_INTERMEDIATE = repoFile('test/fixtures/containers-image/keys/pki_intermediate_crts.pem');
const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
/** The PEM as the trust store keeps it: each certificate re-exported, nothing else. */
const reExported = (pem: string): string =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)]
    .map((m) => new X509Certificate(m[0]).toString())
    .join('');

let app: AdminApp;
let km: string;
let auditor: string;

const post = (path: string, body: unknown) =>
  request(app.app)
    .post(`/admin/v1${path}`)
    .set('authorization', km)
    .send(body as object);
const audit = async (query: string) =>
  (await request(app.app).get(`/admin/v1/audit?${query}`).set('authorization', auditor).expect(200)).body as {
    entries: Record<string, unknown>[];
  };
const stored = (id: string) => app.runtime.trust.snapshot().entries.find((e) => e.id === id);

before(async () => {
  app = await adminApp(offlineUpstream(REDIS_URL), { redisPrefix: prefix });
  km = await app.bearer('kim', ['key-manager']);
  auditor = await app.bearer('audrey', ['auditor']);
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
});

describe('POST /admin/v1/keys › sigstore-root and tsa', () => {
  it('a sigstore-root by trustedRoot (a JSON object) › 201, fingerprint = sha256 of the stored JSON, audited without the material', async () => {
    const res = await post('/keys', { id: 'public-good', kind: 'sigstore-root', trustedRoot: PUBLIC_GOOD, scopes: [SCOPE] }).expect(201);
    assert.deepEqual(res.body, {
      id: 'public-good',
      kind: 'sigstore-root',
      scopes: [SCOPE],
      purposes: ['sign'],
      origin: 'api',
      status: 'active',
      fingerprint: sha256(JSON.stringify(PUBLIC_GOOD)),
    });
    const entry = stored('public-good');
    assert.equal(entry?.pem, '');
    assert.deepEqual(JSON.parse(entry?.trustedRoot ?? 'null'), PUBLIC_GOOD);
    const [audited] = (await audit('action=key.add&limit=1')).entries;
    assert.deepEqual([audited?.['actor'], audited?.['target'], audited?.['outcome']], ['kim', 'public-good', 'ok']);
    assert.deepEqual(audited?.['after'], res.body);
    assert.doesNotMatch(JSON.stringify(audited), /tlog\.sigstore\.dev|rawBytes/, 'the trusted root itself is not audited');
  });

  it('a sigstore-root by trustedRoot given as text › 201, the same fingerprint as the object (stored re-serialized)', async () => {
    const text = JSON.stringify(PUBLIC_GOOD, null, 4);
    const res = await post('/keys', { id: 'public-good-text', kind: 'sigstore-root', trustedRoot: text, scopes: [SCOPE] }).expect(201);
    assert.equal(res.body.fingerprint, sha256(JSON.stringify(PUBLIC_GOOD)));
  });

  it('a sigstore-root by pem (a root and its intermediate) › 201, fingerprint = sha256 of the re-exported certificates, audited', async () => {
    const pem = `# the Linuxera PKI\n${PKI_ROOT}\n${PKI_INTERMEDIATE}`;
    const res = await post('/keys', { id: 'byo-pki', kind: 'sigstore-root', pem, scopes: [SCOPE] }).expect(201);
    assert.equal(res.body.kind, 'sigstore-root');
    assert.equal(res.body.status, 'active');
    assert.equal(res.body.fingerprint, sha256(reExported(PKI_ROOT + PKI_INTERMEDIATE)));
    assert.equal(stored('byo-pki')?.pem, reExported(PKI_ROOT + PKI_INTERMEDIATE), 'stored without the comment');
    assert.equal(stored('byo-pki')?.trustedRoot, undefined);
    const [audited] = (await audit('action=key.add&limit=1')).entries;
    assert.deepEqual([audited?.['target'], audited?.['outcome']], ['byo-pki', 'ok']);
    assert.deepEqual(audited?.['after'], res.body);
    assert.doesNotMatch(JSON.stringify(audited), /BEGIN CERTIFICATE/);
  });

  it('a tsa root by pem › 201, fingerprint = sha256 of the certificate DER, audited', async () => {
    const tsa = await makeNotationTsa(new Date());
    const res = await post('/keys', { id: 'tsa', kind: 'tsa', pem: tsa.rootPem, scopes: [SCOPE] }).expect(201);
    assert.deepEqual(res.body, {
      id: 'tsa',
      kind: 'tsa',
      scopes: [SCOPE],
      purposes: ['sign'],
      origin: 'api',
      status: 'active',
      fingerprint: sha256(new X509Certificate(tsa.rootPem).raw),
    });
    const [audited] = (await audit('action=key.add&limit=1')).entries;
    assert.deepEqual([audited?.['target'], audited?.['outcome']], ['tsa', 'ok']);
    const listed = (await request(app.app).get('/admin/v1/keys').set('authorization', auditor).expect(200)).body as {
      keys: { id: string; kind: string }[];
    };
    assert.deepEqual(listed.keys.map((k) => `${k.id}:${k.kind}`).sort(), [
      'byo-pki:sigstore-root',
      'public-good-text:sigstore-root',
      'public-good:sigstore-root',
      'tsa:tsa',
    ]);
  });

  it('refuses with 400 and the problem: both, neither, trustedRoot for a key, a bad mediaType, an intermediate alone, a private key', async () => {
    const [privateKey] = privatePems();
    // The body is refused whole before any field is read, naming the field (src/admin/private-key-input.ts).
    const PRIVATE = (field: string) =>
      `"${field}" holds a private key; the admin API takes public keys and certificates only, and nothing was stored`;
    const root = (extra: object) => ({ kind: 'sigstore-root', scopes: [SCOPE], ...extra });
    const cases: [string, object, string][] = [
      ['both', root({ pem: PKI_ROOT, trustedRoot: PUBLIC_GOOD }), 'give exactly one of "pem" and "trustedRoot"'],
      ['neither', root({}), 'give exactly one of "pem" and "trustedRoot"'],
      ['for-a-key', { trustedRoot: PUBLIC_GOOD, scopes: [SCOPE] }, '"trustedRoot": only for kind "sigstore-root"'],
      [
        'bad-media-type',
        root({ trustedRoot: { ...PUBLIC_GOOD, mediaType: 'application/json' } }),
        'not a usable sigstore root: trustedRoot.mediaType is not application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      ],
      [
        'intermediate-alone',
        root({ pem: PKI_INTERMEDIATE }),
        'not a usable sigstore root: no self-signed root certificate: intermediates alone are never trust anchors',
      ],
      ['private-in-pem', root({ pem: `${PKI_ROOT}${privateKey!.pem}` }), PRIVATE('pem')],
      ['private-in-json', root({ trustedRoot: { ...PUBLIC_GOOD, note: privateKey!.pem } }), PRIVATE('trustedRoot.note')],
      ['private-tsa', { kind: 'tsa', pem: privateKey!.pem, scopes: [SCOPE] }, PRIVATE('pem')],
    ];
    for (const [id, body, message] of cases) {
      const res = await post('/keys', { id, ...body });
      assert.equal(res.status, 400, `${id}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errors[0].message, message, id);
      assert.equal(stored(id), undefined, `${id} is not stored`);
    }
    const failed = (await audit('action=key.add&limit=50')).entries.filter((e) => e['outcome'] === 'error');
    assert.ok(
      cases.every(([id]) => failed.some((e) => e['target'] === id)),
      'each refusal is audited under its id',
    );
    assert.doesNotMatch(JSON.stringify(failed), /PRIVATE KEY|rawBytes/);
  });
});

describe('POST /admin/v1/keys/<id>/rotate › a sigstore-root', () => {
  it('is refused with 400: add the new root, then revoke or bound the old one; nothing is written', async () => {
    const version = app.runtime.trust.snapshot().version;
    const keepOldUntil = new Date(Date.now() + 3_600_000).toISOString();
    const res = await post('/keys/byo-pki/rotate', { newId: 'byo-pki-2', pem: PKI_ROOT, keepOldUntil });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].message, 'a sigstore-root is not rotated: add the new root, then revoke or bound the old one');
    assert.equal(app.runtime.trust.snapshot().version, version);
    assert.equal(stored('byo-pki-2'), undefined);
    assert.equal(stored('byo-pki')?.notAfter, undefined);
    const [audited] = (await audit('action=key.rotate&limit=1')).entries;
    assert.deepEqual([audited?.['target'], audited?.['outcome']], ['byo-pki', 'error']);
    // A tsa root is a certificate: it rotates like a notation root.
    const next = await makeNotationTsa(new Date());
    const rotated = await post('/keys/tsa/rotate', { newId: 'tsa-2', pem: next.rootPem, keepOldUntil }).expect(201);
    assert.equal(rotated.body.new.kind, 'tsa');
    assert.equal(rotated.body.old.notAfter, keepOldUntil);
    await post('/keys/tsa-2/rotate', { newId: 'tsa-3', pem: spki(ec('P-256').publicKey), keepOldUntil }).expect(400);
  });
});
