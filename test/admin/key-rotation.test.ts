import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildImage, push, startRegistry, type RunningRegistry, cosignSignImage } from '../kit/index.ts';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { ec, spki } from './key-material.ts';

// Rotation and time: the old key keeps its old signatures valid until keepOldUntil, then stops.
// A controlled clock drives the runtime (verification, validity windows, cached verdicts);
// pulls go through the real app to a real registry, with supertest instead of skopeo.
const prefix = testPrefix('rotate');
const work = mkdtempSync(join(tmpdir(), 'tg-rotate-'));
const oldKey = ec('P-256');
const newKey = ec('P-256');
const HOUR = 3_600_000;
const T0 = Date.now();
let clock = T0;
let registry: RunningRegistry;
let app: AdminApp;
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

const pull = async (repo: string): Promise<{ status: number; reasons: string[] }> => {
  const res = await request(app.app).get(`/v2/${repo}/manifests/v1`).set('accept', ACCEPT);
  return { status: res.status, reasons: res.status === 200 ? [] : (JSON.parse(res.text).errors[0].detail?.reasons ?? []) };
};

before(async () => {
  registry = await startRegistry();
  for (const [repo, key] of [
    ['prod/old-signed', oldKey],
    ['prod/new-signed', newKey],
  ] as const) {
    const image = await buildImage(join(work, repo.replace('/', '-')), { seed: repo });
    assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`)).code, 0);
    await cosignSignImage(registry.url, repo, image.manifestDigest, `${registry.host}/${repo}`, key.privateKey);
  }
  const host = registry.host;
  app = await adminApp(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\ngate: { verdicts: { allowTtlMs: 86400000 } }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/**"] }\n`,
    { redisPrefix: prefix, now: () => clock, policy: `version: 1\nrules:\n  - { name: prod, images: ["${host}/prod/**"] }\n` },
  );
});
after(async () => {
  await app?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('rotating a key through the admin API', () => {
  it('before: only images signed by the old key pass', async () => {
    const km = await app.bearer('kim', ['key-manager']);
    await request(app.app)
      .post('/admin/v1/keys')
      .set('authorization', km)
      .send({ id: 'release', pem: spki(oldKey.publicKey), scopes: [`${registry.host}/prod/**`] })
      .expect(201);
    assert.equal((await pull('prod/old-signed')).status, 200);
    assert.equal((await pull('prod/new-signed')).status, 403);
  });

  it('after the rotation: the new key signs, and the old signatures stay valid until keepOldUntil', async () => {
    const km = await app.bearer('kim', ['key-manager']);
    const keepOldUntil = new Date(T0 + 2 * HOUR).toISOString();
    await request(app.app)
      .post('/admin/v1/keys/release/rotate')
      .set('authorization', km)
      .send({ newId: 'release-2', pem: spki(newKey.publicKey), keepOldUntil })
      .expect(201);
    assert.equal((await pull('prod/new-signed')).status, 200);
    assert.equal((await pull('prod/old-signed')).status, 200);
    clock = T0 + 2 * HOUR - 1;
    assert.equal((await pull('prod/old-signed')).status, 200, 'a millisecond before keepOldUntil, from the cached verdict');
  });

  it('at keepOldUntil the old signatures stop counting, though the cached allow had a day to live', async () => {
    clock = T0 + 2 * HOUR;
    assert.deepEqual(await pull('prod/old-signed'), { status: 403, reasons: ['key_not_valid'] });
    assert.equal((await pull('prod/new-signed')).status, 200);
    const view = (
      await request(app.app)
        .get('/admin/v1/keys/release')
        .set('authorization', await app.bearer('audrey', ['auditor']))
        .expect(200)
    ).body;
    assert.equal(view.validNow, false);
    assert.equal(view.status, 'active', 'expired, not revoked');
  });
});
