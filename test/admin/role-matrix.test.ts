import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, spki } from './key-material.ts';

// Every admin endpoint × every role, plus no token and each kind of bad token (docs/design.md §6: deny by
// default). Allowed calls carry empty bodies, so they fail validation (4xx) but never the role check.
const prefix = testPrefix('matrix');
const work = mkdtempSync(join(tmpdir(), 'tg-matrix-'));
let app: AdminApp;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const KM = ['admin', 'key-manager'];
const READ = ['admin', 'key-manager', 'auditor'];
const ENDPOINTS: ReadonlyArray<readonly [Method, string, readonly string[]]> = [
  ['get', '/keys', READ],
  ['get', '/keys/held', READ],
  ['post', '/keys', KM],
  ['patch', '/keys/held', KM],
  ['post', '/keys/held/revoke', KM],
  ['post', '/keys/held/rotate', KM],
  ['get', '/policy', READ],
  ['post', '/policy/validate', READ],
  ['put', '/policy', KM],
  ['post', '/policy/rollback', KM],
  ['post', '/breakglass', KM],
  ['get', '/breakglass', READ],
  ['delete', '/breakglass/none', KM],
  ['get', '/explain?image=x', READ],
  ['get', '/decisions?digest=x', READ],
  ['get', '/decisions/recent', READ],
  ['get', '/overview', READ],
  ['get', '/policy/history', READ],
  ['get', '/policy/versions/1', READ],
  ['post', '/robots', KM],
  ['get', '/robots', KM],
  ['delete', '/robots/none', KM],
  ['get', '/audit', ['admin', 'auditor']],
  ['post', '/scans?image=x', ['admin', 'scanner']],
  ['get', '/scans/queue', ['admin', 'scanner', 'auditor']],
  ['get', `/scans/sha256:${'0'.repeat(64)}`, ['admin', 'scanner', 'auditor']],
];
const ROLES = ['admin', 'key-manager', 'scanner', 'auditor'];

before(async () => {
  const signingKey = join(work, 'pull.pem');
  writeFileSync(signingKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  app = await adminApp(`${offlineUpstream(REDIS_URL)}pullAuth: { signingKey: { file: "${signingKey}" } }\n`, {
    redisPrefix: prefix,
    keys: [{ id: 'held', pem: spki(ec('P-256').publicKey), scopes: ['registry.example/**'] }],
  });
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

const call = (method: Method, path: string, authorization?: string) => {
  const req = request(app.app)[method](`/admin/v1${path}`);
  if (authorization !== undefined) req.set('authorization', authorization);
  return method === 'get' || method === 'delete' ? req : req.send({});
};

async function badTokens(): Promise<Array<readonly [string, string]>> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: 'mallory', roles: ['admin'], iss: 'https://issuer.test', aud: 'trustgate', iat: now };
  const stranger = await generateKeyPair('ES256');
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return [
    ['expired', await app.tokens.signRaw({ ...claims, exp: now - 120 }, { kid: 'test-1' })],
    ['wrong audience', await app.tokens.mint('mallory', ['admin'], { audience: 'elsewhere' })],
    ['wrong issuer', await app.tokens.mint('mallory', ['admin'], { issuer: 'https://evil.test' })],
    ['unknown kid', await app.tokens.signRaw({ ...claims, exp: now + 300 }, { kid: 'not-ours' })],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 300 })}.`],
    [
      'untrusted key',
      await new SignJWT({ ...claims, exp: now + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'test-1' }).sign(stranger.privateKey),
    ],
  ];
}

describe('admin API › role × endpoint matrix', () => {
  for (const [method, path, allowed] of ENDPOINTS) {
    for (const role of ROLES) {
      const ok = allowed.includes(role);
      it(`${method.toUpperCase()} ${path} as ${role} › ${ok ? 'passes the role check' : '403, audited as denied'}`, async () => {
        const actor = `${role}:${method}:${path}`;
        const res = await call(method, path, await app.bearer(actor, [role]));
        if (ok) {
          assert.ok(res.status !== 401 && res.status !== 403, `status ${res.status}: ${res.text}`);
          return;
        }
        assert.equal(res.status, 403, res.text);
        const audit = await request(app.app)
          .get(`/admin/v1/audit?limit=1&actor=${encodeURIComponent(actor)}`)
          .set('authorization', await app.bearer('reader', ['auditor']));
        assert.equal(audit.body.entries[0]?.outcome, 'denied');
      });
    }
    it(`${method.toUpperCase()} ${path} without a token or with any bad token › 401 with a Bearer challenge`, async () => {
      const none = await call(method, path);
      assert.equal(none.status, 401);
      assert.match(none.headers['www-authenticate'] ?? '', /^Bearer /);
      for (const [kind, token] of await badTokens()) {
        const res = await call(method, path, `Bearer ${token}`);
        assert.equal(res.status, 401, `${kind}: ${res.status} ${res.text}`);
        assert.ok(!res.text.includes(token), `${kind}: the token is not echoed`);
      }
    });
  }
});
