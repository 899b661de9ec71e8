import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import request from 'supertest';
import { holdsPrivateKeyMaterial, privateKeyField } from '../../src/audit/private-key-material.ts';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { writeSigningKey } from '../support/pull-auth.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, spki } from './key-material.ts';

// A private key is refused in every admin input field, in every encoding, and no fragment of it is
// anywhere afterwards: not in the answer, the audit log (GET /audit), the log output or Redis.
const prefix = testPrefix('private-key-input');
const SCOPE = 'registry.example/team/**';
const PUBLIC = spki(ec('P-256').publicKey);
const dir = mkdtempSync(join(tmpdir(), 'tg-pk-'));
let app: AdminApp;
let admin: string;

const der = (key: KeyObject, type: 'pkcs8' | 'sec1' | 'pkcs1'): Buffer => key.export({ type, format: 'der' });
const pem = (key: KeyObject, type: 'pkcs8' | 'sec1' | 'pkcs1'): string => key.export({ type, format: 'pem' }).toString();
const bodyOf = (text: string): string =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .join('\n');

const e = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const r = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;
const jwk = e.export({ format: 'jwk' }) as Record<string, unknown>;
const encrypted = e.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }).toString();

/** Each encoding: the value sent (a string, or a JWK object where the field takes JSON). */
const ENCODINGS: readonly { name: string; value: string | Record<string, unknown> }[] = [
  { name: 'PEM PKCS#8 EC', value: pem(e, 'pkcs8') },
  { name: 'PEM SEC1 EC', value: pem(e, 'sec1') },
  { name: 'PEM PKCS#1 RSA', value: pem(r, 'pkcs1') },
  { name: 'PEM PKCS#8 Ed25519', value: pem(ed, 'pkcs8') },
  { name: 'PEM encrypted PKCS#8', value: encrypted },
  { name: 'base64 PKCS#8 DER', value: der(e, 'pkcs8').toString('base64') },
  { name: 'base64 SEC1 DER', value: der(e, 'sec1').toString('base64') },
  { name: 'base64 PKCS#1 DER', value: der(r, 'pkcs1').toString('base64') },
  { name: 'base64url PKCS#8 Ed25519 DER', value: der(ed, 'pkcs8').toString('base64url') },
  { name: 'base64 encrypted PKCS#8 DER', value: bodyOf(encrypted).replace(/\n/g, '') },
  { name: 'PEM body without armour, line breaks kept', value: bodyOf(pem(r, 'pkcs8')) },
  { name: 'hex PKCS#8 DER', value: der(e, 'pkcs8').toString('hex') },
  { name: 'base64 of a PEM', value: Buffer.from(pem(e, 'sec1')).toString('base64') },
  { name: 'JWK text', value: JSON.stringify(jwk) },
  { name: 'JWK object', value: jwk },
];

/** Every run of 12 characters (stride 4) of every piece of the value: none may appear anywhere. */
function fragments(value: string | Record<string, unknown>): string[] {
  const text = typeof value === 'string' ? value : String(value['d']);
  const pieces = text.split(/-----[^-]+-----|\s+|[{}",:]/).filter((p) => p.length >= 12);
  return pieces.flatMap((p) => Array.from({ length: Math.floor((p.length - 12) / 4) + 1 }, (_, i) => p.slice(i * 4, i * 4 + 12)));
}

const asText = (v: string | Record<string, unknown>): string => (typeof v === 'string' ? v : JSON.stringify(v));
const soon = (): string => new Date(Date.now() + 3_600_000).toISOString();
const policyWith = (v: string | Record<string, unknown>): string =>
  `version: 1\nrules:\n  - name: ${JSON.stringify(v)}\n    images: ["**"]\n`;

type Call = (v: string | Record<string, unknown>) => request.Test;
/** Each input field: how it is sent, and how the refusal names it. */
const FIELDS: readonly { name: string; call: Call; field: string; stringOnly?: boolean }[] = [
  { name: 'key pem', field: '"pem"', call: (v) => post('/keys', { id: 'leak', pem: v, scopes: [SCOPE] }) },
  { name: 'key scope', field: '"scopes[0]"', call: (v) => post('/keys', { id: 'leak', pem: PUBLIC, scopes: [v] }) },
  { name: 'key id', field: '"id"', call: (v) => post('/keys', { id: v, pem: PUBLIC, scopes: [SCOPE] }) },
  { name: 'key notAfter', field: '"notAfter"', call: (v) => post('/keys', { id: 'leak', pem: PUBLIC, scopes: [SCOPE], notAfter: v }) },
  { name: 'patched scope', field: '"scopes[1]"', call: (v) => send('patch', '/keys/filekey', { scopes: [SCOPE, v] }) },
  { name: 'revoke reason', field: '"reason"', call: (v) => post('/keys/filekey/revoke', { reason: v }) },
  { name: 'rotate pem', field: '"pem"', call: (v) => post('/keys/filekey/rotate', { newId: 'fresh', pem: v, keepOldUntil: soon() }) },
  { name: 'break-glass image', field: '"image"', call: (v) => post('/breakglass', { image: v, reason: 'INC-1', expires: soon() }) },
  { name: 'break-glass reason', field: '"reason"', call: (v) => post('/breakglass', { image: `${SCOPE}`, reason: v, expires: soon() }) },
  {
    name: 'a field name',
    field: '"(a field name)"',
    stringOnly: true,
    call: (v) => post('/breakglass', { image: SCOPE, reason: 'INC-1', expires: soon(), [asText(v)]: 1 }),
  },
  { name: 'robot name', field: '"name"', call: (v) => post('/robots', { name: v, repositories: [SCOPE] }) },
  { name: 'robot repository', field: '"repositories[0]"', call: (v) => post('/robots', { name: 'ci', repositories: [v] }) },
  { name: 'scan report', field: '"report"', call: (v) => post('/scans', { report: v }) },
  {
    name: 'policy validate',
    field: 'policy field "rules[0].name"',
    call: (v) => request(app.app).post('/admin/v1/policy/validate').set('authorization', admin).send(policyWith(v)),
  },
  {
    name: 'policy apply',
    field: 'policy field "rules[0].name"',
    call: (v) => request(app.app).put('/admin/v1/policy').set('authorization', admin).send(policyWith(v)),
  },
  { name: 'audit actor query', field: 'query parameter "actor"', call: (v) => get(`/audit?actor=${encodeURIComponent(asText(v))}`) },
  { name: 'explain image query', field: 'query parameter "image"', call: (v) => get(`/explain?image=${encodeURIComponent(asText(v))}`) },
  {
    name: 'decisions digest query',
    field: 'query parameter "digest"',
    call: (v) => get(`/decisions?digest=${encodeURIComponent(asText(v))}`),
  },
  { name: 'key id in the path', field: 'path parameter "id"', call: (v) => get(`/keys/${encodeURIComponent(asText(v))}`) },
  {
    name: 'break-glass id in the path',
    field: 'path parameter "id"',
    call: (v) =>
      request(app.app)
        .delete(`/admin/v1/breakglass/${encodeURIComponent(asText(v))}`)
        .set('authorization', admin),
  },
];

const send = (method: 'post' | 'patch', path: string, body: unknown) =>
  request(app.app)
    [method](`/admin/v1${path}`)
    .set('authorization', admin)
    .set('content-type', 'application/json')
    .send(JSON.stringify(body));
const post = (path: string, body: unknown) => send('post', path, body);
const get = (path: string) => request(app.app).get(`/admin/v1${path}`).set('authorization', admin);

before(async () => {
  app = await adminApp(`${offlineUpstream(REDIS_URL)}pullAuth: { signingKey: { file: "${writeSigningKey(dir)}" } }\n`, {
    redisPrefix: prefix,
    keys: [{ id: 'filekey', pem: PUBLIC, scopes: ['registry.example/**'] }],
  });
  admin = await app.bearer('ada', ['admin']);
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('private key material in admin input', () => {
  it('is detected in every encoding, and public material, digests and patterns are not', () => {
    for (const { name, value } of ENCODINGS) assert.equal(privateKeyField({ f: value }), 'f', name);
    const pub = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const publicForms = [
      PUBLIC,
      pub.export({ type: 'spki', format: 'der' }).toString('base64'),
      pub.export({ type: 'pkcs1', format: 'der' }).toString('hex'),
      JSON.stringify(pub.export({ format: 'jwk' })),
      `sha256:${'3082'.repeat(16)}`,
      SCOPE,
      'INC-1234: hotfix for the payment service',
    ];
    for (const text of publicForms) assert.equal(holdsPrivateKeyMaterial(text), false, text);
  });

  for (const target of FIELDS) {
    it(`is refused in the ${target.name} with 400 BAD_REQUEST naming the field, never echoing the value`, async () => {
      for (const { name, value } of ENCODINGS) {
        if (target.stringOnly === true && typeof value !== 'string') continue;
        const res = await target.call(value);
        assert.equal(res.status, 400, `${name}: ${res.text.slice(0, 200)}`);
        assert.equal(res.body.errors[0].code, 'BAD_REQUEST', name);
        assert.ok(res.body.errors[0].message.startsWith(`${target.field} holds a private key`), `${name}: ${res.body.errors[0].message}`);
        for (const piece of fragments(value)) assert.ok(!res.text.includes(piece), `${name}: the answer holds "${piece}"`);
      }
    });
  }

  it('without a token is a 401, audited under the route rather than the value', async () => {
    const res = await request(app.app).get(`/admin/v1/explain?image=${encodeURIComponent(der(e, 'pkcs8').toString('base64'))}`);
    assert.equal(res.status, 401);
  });

  it('is nowhere afterwards: not in the audit log, the log output or Redis; the refusals are audited with the field', async () => {
    const audit = await get('/audit?limit=1000').expect(200);
    const entries = audit.body.entries as { action: string; target: string; outcome: string; message?: string }[];
    assert.ok(
      entries.some((x) => x.action === 'key.add' && x.target === 'leak' && x.outcome === 'error' && x.message?.startsWith('"pem" holds')),
    );
    assert.ok(entries.some((x) => x.action === 'explain.read' && x.outcome === 'denied' && x.target === '/admin/v1/explain'));
    assert.ok(entries.some((x) => x.action === 'breakglass.end' && x.target === '/admin/v1/breakglass/:id' && x.outcome === 'error'));
    const redis = new Redis(REDIS_URL);
    let dump = '';
    try {
      for (const key of await redis.keys(`${prefix}*`)) {
        const type = await redis.type(key);
        if (type === 'hash') dump += JSON.stringify(await redis.hgetall(key));
        else if (type === 'stream') dump += JSON.stringify(await redis.xrange(key, '-', '+'));
        else if (type === 'string') dump += (await redis.get(key)) ?? '';
        else if (type === 'list') dump += JSON.stringify(await redis.lrange(key, 0, -1));
      }
    } finally {
      redis.disconnect();
    }
    for (const [where, text] of [
      ['audit', audit.text],
      ['logs', app.logs.text()],
      ['redis', dump],
    ] as const) {
      for (const { name, value } of ENCODINGS)
        for (const piece of fragments(value)) assert.ok(!text.includes(piece), `${name}: ${where} holds "${piece}"`);
      assert.doesNotMatch(text, /PRIVATE KEY/, where);
    }
  });
});
