import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  buildImage,
  makeSimpleSigningPayload,
  push,
  pushCosignSignature,
  signPayload,
  startRegistry,
  type BuiltImage,
  type RunningRegistry,
} from '../kit/index.ts';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

// GET /admin/v1/explain against a real registry with real cosign signatures, through the real
// app with Redis: the decision a pull would get, its findings and scan state, and no side effects.
const prefix = testPrefix('explain');
const work = mkdtempSync(join(tmpdir(), 'tg-explain-'));
const release = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
const images: Record<string, BuiltImage> = {};
let registry: RunningRegistry;
let app: AdminApp;
let auditor: string;

async function image(repo: string, signer?: { key: KeyObject; digestOf?: string }): Promise<BuiltImage> {
  const built = await buildImage(join(work, repo.replace('/', '-')), { seed: repo });
  images[repo] = built;
  assert.equal((await push(built.layoutDir, `docker://${registry.host}/${repo}:v1`)).code, 0);
  if (signer !== undefined) {
    const payload = makeSimpleSigningPayload(signer.digestOf ?? built.manifestDigest, `${registry.host}/${repo}`);
    await pushCosignSignature(registry.url, repo, { digest: built.manifestDigest }, [
      { payload, signature: signPayload(signer.key, payload) },
    ]);
  }
  return built;
}

const explain = (image: string, auth = auditor) => request(app.app).get('/admin/v1/explain').query({ image }).set('authorization', auth);
const name = (repo: string): string => `${registry.host}/${repo}`;

before(async () => {
  registry = await startRegistry();
  const signed = await image('app/signed', { key: release.privateKey });
  await image('app/unsigned');
  await image('app/wrong-digest', { key: release.privateKey, digestOf: signed.manifestDigest });
  await image('app/stranger', { key: stranger.privateKey });
  await image('scanned/app', { key: release.privateKey });
  const host = registry.host;
  app = await adminApp(
    `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}" }\nupstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${host}/app/**", "${host}/scanned/**"] }\n`,
    {
      redisPrefix: prefix,
      policy: `version: 1\nrules:\n  - { name: app, images: ["${host}/app/**"] }\n  - { name: scanned, images: ["${host}/scanned/**"], scan: { required: true, maxSeverity: HIGH } }\n`,
      keys: [{ id: 'release', pem: pem(release.publicKey), scopes: [`${host}/**`] }],
    },
  );
  auditor = await app.bearer('audrey', ['auditor']);
});
after(async () => {
  await app?.close();
  await registry?.stop();
  await deleteRedisKeys(prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('explain', () => {
  it('an unsigned image › deny, reason unsigned, zero findings, with the digest, media type and scan state', async () => {
    const res = await explain(`${name('app/unsigned')}:v1`).expect(200);
    assert.deepEqual(res.body, {
      image: `${name('app/unsigned')}:v1`,
      digest: images['app/unsigned']!.manifestDigest,
      mediaType: images['app/unsigned']!.mediaType,
      outcome: 'deny',
      rule: 'app',
      reasons: [{ code: 'unsigned', message: 'no signature found' }],
      signers: [],
      notAfter: null,
      findings: [],
      scan: { required: false, state: 'unscanned' },
    });
  });

  it('a signature made for another digest › the finding names its failure', async () => {
    const res = await explain(`${name('app/wrong-digest')}:v1`).expect(200);
    assert.equal(res.body.outcome, 'deny');
    assert.equal(res.body.reasons[0].code, 'digest_mismatch');
    assert.equal(res.body.findings.length, 1);
    const [finding] = res.body.findings;
    assert.equal(finding.scheme, 'cosign');
    assert.equal(finding.failure.kind, 'digest');
    assert.match(finding.failure.message, new RegExp(images['app/signed']!.manifestDigest.slice(0, 19)));
  });

  it('a signature from a key the trust store does not hold › crypto failure, verified by nobody', async () => {
    const res = await explain(`${name('app/stranger')}:v1`).expect(200);
    assert.equal(res.body.reasons[0].code, 'signature_invalid');
    assert.deepEqual(
      res.body.findings.map((f: { verifiedBy: string[]; failure: { kind: string } }) => [f.verifiedBy, f.failure.kind]),
      [[[], 'crypto']],
    );
  });

  it('a signed image, by digest › allow, its signer, and nothing recorded as allowed: its blobs stay refused until a real pull', async () => {
    const signed = images['app/signed']!;
    const res = await request(app.app)
      .get('/admin/v1/explain')
      .query({ image: `${name('app/signed')}@${signed.manifestDigest}` })
      .set('authorization', await app.bearer('kim', ['key-manager']))
      .expect(200);
    assert.equal(res.body.outcome, 'allow');
    assert.deepEqual(res.body.signers, ['release']);
    assert.deepEqual(
      res.body.findings.map((f: { verifiedBy: string[]; failure?: unknown }) => [f.verifiedBy, f.failure]),
      [[['release'], undefined]],
    );
    const layer = `/v2/app/signed/blobs/${signed.layerDigests[0]}`;
    const refused = await request(app.app).get(layer).expect(403);
    assert.match(refused.text, /blob_not_referenced/);
    await request(app.app).get('/v2/app/signed/manifests/v1').expect(200);
    await request(app.app).get(layer).expect(200);
  });

  it('an unscanned image whose rule needs a scan › deny unscanned, and no scan is queued (a pull queues one)', async () => {
    const { manifestDigest } = images['scanned/app']!;
    const res = await explain(`${name('scanned/app')}:v1`).expect(200);
    assert.equal(res.body.outcome, 'deny');
    assert.deepEqual(
      res.body.reasons.map((r: { code: string }) => r.code),
      ['unscanned'],
    );
    assert.deepEqual(res.body.scan, { required: true, state: 'unscanned' });
    assert.deepEqual(res.body.signers, ['release']);
    const scanner = await app.bearer('scan-bot', ['scanner']);
    const queue = async () =>
      (await request(app.app).get('/admin/v1/scans/queue').set('authorization', scanner).expect(200)).body.pending.map(
        (p: { digest: string }) => p.digest,
      );
    assert.deepEqual(await queue(), []);
    assert.equal(await app.runtime.scans.isPending(manifestDigest as `sha256:${string}`), false);
    await request(app.app).get('/v2/scanned/app/manifests/v1').expect(403);
    assert.deepEqual(await queue(), [manifestDigest]);
    const again = await explain(`${name('scanned/app')}:v1`).expect(200);
    assert.deepEqual(again.body.scan, { required: true, state: 'pending' });
  });

  it('explain is not a pull: GET /decisions holds only real pulls', async () => {
    const unsigned = images['app/unsigned']!.manifestDigest;
    const none = await request(app.app).get(`/admin/v1/decisions?digest=${unsigned}`).set('authorization', auditor).expect(200);
    assert.deepEqual(none.body, { digest: unsigned, from: 'redis', decisions: [] });
    await request(app.app).get('/v2/app/unsigned/manifests/v1').expect(403);
    const one = (await request(app.app).get(`/admin/v1/decisions?digest=${unsigned}`).set('authorization', auditor).expect(200)).body
      .decisions;
    assert.deepEqual(
      one.map((d: { outcome: string; rule: string; reference: string }) => `${d.outcome} ${d.rule} ${d.reference}`),
      ['deny app v1'],
    );
  });

  it('with a break-glass entry › allow, rule break-glass, and what it overrides', async () => {
    const km = await app.bearer('kim', ['key-manager']);
    const { body } = await request(app.app)
      .post('/admin/v1/breakglass')
      .set('authorization', km)
      .send({
        image: `${name('app/unsigned')}@${images['app/unsigned']!.manifestDigest}`,
        reason: 'INC-7',
        expires: new Date(Date.now() + 3_600_000).toISOString(),
      })
      .expect(201);
    try {
      const res = await explain(`${name('app/unsigned')}:v1`).expect(200);
      assert.equal(res.body.outcome, 'allow');
      assert.equal(res.body.rule, 'break-glass');
      assert.equal(res.body.reasons[0].code, 'break_glass');
      assert.deepEqual(res.body.overrides, {
        outcome: 'deny',
        rule: 'app',
        reasons: [{ code: 'unsigned', message: 'no signature found' }],
        signers: [],
        notAfter: null,
      });
    } finally {
      await request(app.app).delete(`/admin/v1/breakglass/${body.id}`).set('authorization', km).expect(200);
    }
  });

  it('a repository off the allowlist, or an unknown registry › deny source_not_allowed, nothing fetched', async () => {
    const off = await explain(`${name('other/app')}:v1`).expect(200);
    assert.deepEqual(
      { outcome: off.body.outcome, rule: off.body.rule, code: off.body.reasons[0].code, digest: off.body.digest },
      { outcome: 'deny', rule: 'source-allowlist', code: 'source_not_allowed', digest: null },
    );
    const unknown = await explain('registry.nowhere.example/app:v1').expect(200);
    assert.match(unknown.body.reasons[0].message, /is not served by this proxy/);
  });

  it('a malformed image › 400; an unknown tag › 404 from the upstream', async () => {
    for (const bad of ['', 'app', `${registry.host}/app/signed`, `${registry.host}/App/x:v1`, `${registry.host}/app/signed@sha256:zz`]) {
      const res = await explain(bad);
      assert.equal(res.status, 400, bad);
    }
    await explain(`${name('app/signed')}:nope`).expect(404);
  });

  it('roles: scanner › 403 on explain and decisions', async () => {
    const scanner = await app.bearer('scan-bot', ['scanner']);
    await explain(`${name('app/signed')}:v1`, scanner).expect(403);
    await request(app.app)
      .get(`/admin/v1/decisions?digest=${images['app/signed']!.manifestDigest}`)
      .set('authorization', scanner)
      .expect(403);
  });
});
