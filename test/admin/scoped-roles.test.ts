import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { scopeWithin } from '../../src/admin/scope.ts';
import { parseRoleClaims } from '../../src/admin/tokens.ts';
import { adminApp, offlineUpstream, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, spki } from './key-material.ts';

const TEAM_A = 'registry.example/team-a/**';
const prefix = testPrefix('scoped');
let app: AdminApp;
let scoped: string;
let km: string;
let auditor: string;

const call = (method: 'post' | 'put' | 'patch', path: string, auth: string, body: unknown = {}) =>
  request(app.app)
    [method](`/admin/v1${path}`)
    .set('authorization', auth)
    .send(body as object);
const key = (id: string, scopes: string[]) => ({ id, pem: spki(ec('P-256').publicKey), scopes });

before(async () => {
  app = await adminApp(offlineUpstream(REDIS_URL), { redisPrefix: prefix });
  scoped = await app.bearer('sam', [`key-manager@${TEAM_A}`]);
  km = await app.bearer('kim', ['key-manager']);
  auditor = await app.bearer('audrey', ['auditor']);
});
after(async () => {
  await app?.close();
  await deleteRedisKeys(prefix);
});

describe('roles claim: "<role>" and "<role>@<image pattern>"', () => {
  it('parses unscoped and scoped roles; unscoped wins; admin@… and bad patterns grant nothing', () => {
    assert.deepEqual(parseRoleClaims(['auditor']), { roles: ['auditor'], scopes: {} });
    assert.deepEqual(parseRoleClaims([`key-manager@${TEAM_A}`, 'key-manager@registry.example/team-c/*']), {
      roles: ['key-manager'],
      scopes: { 'key-manager': [TEAM_A, 'registry.example/team-c/*'] },
    });
    assert.deepEqual(parseRoleClaims([`key-manager@${TEAM_A}`, 'key-manager']), { roles: ['key-manager'], scopes: {} });
    assert.deepEqual(parseRoleClaims(['admin@registry.example/**', 'root@x/y', 'key-manager@bad pattern', 'key-manager@', 7]), {
      roles: [],
      scopes: {},
    });
  });

  it('"lies within" is conservative', () => {
    assert.equal(scopeWithin('registry.example/team-a/app', TEAM_A), true);
    assert.equal(scopeWithin('registry.example/team-a/*', TEAM_A), true);
    assert.equal(scopeWithin(TEAM_A, TEAM_A), true);
    assert.equal(scopeWithin('registry.example/**', TEAM_A), false);
    assert.equal(scopeWithin('registry.example/team-b/**', TEAM_A), false);
    assert.equal(scopeWithin('registry.example/team-a*/x', TEAM_A), false);
    assert.equal(scopeWithin('registry.example/**/app', 'registry.example/*/app'), false);
    assert.equal(scopeWithin('registry.example/team-a/**', 'registry.example/team-a/*/**'), false);
  });
});

describe('a key-manager scoped to registry.example/team-a/**', () => {
  it('adds a key within its scope', async () => {
    const res = await call('post', '/keys', scoped, key('team-a-app', ['registry.example/team-a/app']));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  it('cannot add a key scoped wider or elsewhere: 403 naming the pattern, audited as denied', async () => {
    for (const scope of ['registry.example/**', 'registry.example/team-b/**']) {
      const res = await call('post', '/keys', scoped, key('wide', ['registry.example/team-a/ok', scope])).expect(403);
      assert.equal(res.body.errors[0].code, 'DENIED');
      assert.match(res.body.errors[0].message, new RegExp(`"${scope.replace(/[.*]/g, '\\$&')}" is outside`));
    }
    assert.equal(
      app.runtime.trust.snapshot().entries.some((e) => e.id === 'wide'),
      false,
    );
    const { entries } = (await request(app.app).get('/admin/v1/audit?action=key.add&limit=1').set('authorization', auditor).expect(200))
      .body;
    assert.equal(entries[0].actor, 'sam');
    assert.equal(entries[0].outcome, 'denied');
    assert.deepEqual(entries[0].roles, [`key-manager@${TEAM_A}`]);
  });

  it("cannot revoke or patch another team's key", async () => {
    await call('post', '/keys', km, key('team-b', ['registry.example/team-b/**'])).expect(201);
    const res = await call('post', '/keys/team-b/revoke', scoped, { reason: 'not mine' }).expect(403);
    assert.match(res.body.errors[0].message, /team-b/);
    await call('patch', '/keys/team-b', scoped, { scopes: ['registry.example/team-a/x'] }).expect(403);
    assert.equal(
      app.runtime.trust.snapshot().revocations.some((r) => r.id === 'team-b'),
      false,
    );
  });

  it('cannot change the global policy', async () => {
    const res = await request(app.app).put('/admin/v1/policy').set('authorization', scoped).send('rules: []').expect(403);
    assert.match(res.body.errors[0].message, /a repository-scoped key-manager cannot change the global policy/);
    await call('post', '/policy/rollback', scoped).expect(403);
  });

  it('reads every key', async () => {
    const { keys } = (await request(app.app).get('/admin/v1/keys').set('authorization', scoped).expect(200)).body;
    assert.deepEqual(keys.map((k: { id: string }) => k.id).sort(), ['team-a-app', 'team-b']);
    await request(app.app).get('/admin/v1/keys/team-b').set('authorization', scoped).expect(200);
  });

  it('revokes a key within its scope', async () => {
    await call('post', '/keys/team-a-app/revoke', scoped, { reason: 'done' }).expect(200);
  });
});

describe('a scoped key-manager and break glass or robots', () => {
  const expires = () => new Date(Date.now() + 3_600_000).toISOString();

  it('may open break glass only for images within its scope', async () => {
    const inside = await call('post', '/breakglass', scoped, {
      image: 'registry.example/team-a/app',
      reason: 'hotfix',
      expires: expires(),
    });
    assert.equal(inside.status, 201, JSON.stringify(inside.body));
    const outside = await call('post', '/breakglass', scoped, {
      image: 'registry.example/team-b/app',
      reason: 'hotfix',
      expires: expires(),
    });
    assert.equal(outside.status, 403);
    assert.match(outside.body.errors[0].message, /registry\.example\/team-b\/app/);
  });

  it('may create robots only for repositories within its scope', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeSigningKey } = await import('../support/pull-auth.ts');
    const dir = mkdtempSync(join(tmpdir(), 'tg-scoped-robots-'));
    const robotsPrefix = testPrefix('scoped-robots');
    const withRobots = await adminApp(`${offlineUpstream(REDIS_URL)}pullAuth: { signingKey: { file: "${writeSigningKey(dir)}" } }\n`, {
      redisPrefix: robotsPrefix,
      tokens: app.tokens,
    });
    try {
      const inside = await request(withRobots.app)
        .post('/admin/v1/robots')
        .set('authorization', scoped)
        .send({ name: 'team-a-ci', repositories: ['registry.example/team-a/**'] });
      assert.equal(inside.status, 201, JSON.stringify(inside.body));
      const outside = await request(withRobots.app)
        .post('/admin/v1/robots')
        .set('authorization', scoped)
        .send({ name: 'sneaky', repositories: ['registry.example/**'] });
      assert.equal(outside.status, 403);
    } finally {
      await withRobots.close();
      await deleteRedisKeys(robotsPrefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
