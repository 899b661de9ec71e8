// The runtime hands `/v2` the real effects and explain none (docs/architecture.md "One decision,
// two callers"): a pull caches its verdict, grants its blobs under their source, queues its scan,
// audits a break-glass use and is recorded; explaining the same images changes none of it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { minimalImage, serveImage, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const image = minimalImage();
const CONFIG_DIGEST = image.configDigest;
const DIGEST = image.digest;
// warned: unsigned, in warn mode with a scan required (served with a warning; its scan queued).
// denied: unsigned, enforced (refused until break glass covers it).
const policy = (host: string) =>
  'version: 1\nrules:\n' +
  `  - { name: warned, images: ["${host}/allowed/warned/**"], mode: warn, scan: { required: true, maxAge: 7d } }\n` +
  `  - { name: denied, images: ["${host}/allowed/denied/**"] }\n`;

let upstream: FakeUpstream;
let tg: AdminApp;
let auditor: string;
let km: string;
let verifications = 0;

const get = (path: string) => request(tg.app).get(path);
const admin = (path: string) => get(`/admin/v1${path}`).set('authorization', auditor).expect(200);
const effects = async () => ({
  decisions: (await admin(`/decisions?digest=${DIGEST}`)).body.decisions.map((d: { name: string; rule: string }) => `${d.name} ${d.rule}`),
  queued: (await admin('/scans/queue')).body.pending.map((p: { canonicalName: string }) => p.canonicalName),
  audited: (await admin('/audit?limit=50')).body.entries
    .map((e: { action: string }) => e.action)
    .filter((a: string) => a === 'breakglass.use'),
  warnedBlob: (await get(`/v2/allowed/warned/app/blobs/${CONFIG_DIGEST}`)).status,
  deniedBlob: (await get(`/v2/allowed/denied/app/blobs/${CONFIG_DIGEST}`)).status,
  verifications,
});

before(async () => {
  upstream = await startFakeUpstream();
  for (const repo of ['warned', 'denied']) serveImage(upstream, `allowed/${repo}/app`, 'v1', image);
  tg = await adminApp(singleUpstream(upstream.url), { policy: policy(upstream.host), onVerify: () => void verifications++ });
  auditor = await tg.bearer('audrey', ['auditor']);
  km = await tg.bearer('kim', ['key-manager']);
});
after(async () => {
  await tg?.close();
  await upstream?.close();
});

describe('the /v2 wiring passes the real effects; explain passes none', () => {
  const untouched = { decisions: [], queued: [], audited: [], warnedBlob: 403, deniedBlob: 403, verifications: 0 };

  it('explain: the decisions a pull would get, and nothing changed', async () => {
    const warned = (await admin(`/explain?image=${upstream.host}/allowed/warned/app:v1`)).body;
    assert.equal(warned.outcome, 'warn');
    assert.deepEqual(
      warned.reasons.map((r: { code: string }) => r.code),
      ['unsigned', 'unscanned'],
    );
    assert.equal((await admin(`/explain?image=${upstream.host}/allowed/denied/app:v1`)).body.outcome, 'deny');
    assert.deepEqual(await effects(), untouched);
  });

  it('a pull: served with its warning, recorded, its scan queued, its blobs granted, its verdict cached', async () => {
    const res = await get('/v2/allowed/warned/app/manifests/v1').expect(200);
    assert.match(
      String(res.headers['warning']),
      /^299 - "trustgate: rule 'warned' is in warn mode and would deny this pull: no signature found; no vulnerability scan on record/,
    );
    await get('/v2/allowed/warned/app/manifests/v1').expect(200);
    assert.deepEqual(await effects(), {
      ...untouched,
      decisions: [`${upstream.host}/allowed/warned/app warned`, `${upstream.host}/allowed/warned/app warned`],
      queued: [`${upstream.host}/allowed/warned/app`],
      warnedBlob: 200,
      verifications: 1,
    });
  });

  it('break glass: the denied image served, the use audited once, its blobs granted under the entry until it ends', async () => {
    await get('/v2/allowed/denied/app/manifests/v1').expect(403);
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const entry = await request(tg.app)
      .post('/admin/v1/breakglass')
      .set('authorization', km)
      .send({ image: `${upstream.host}/allowed/denied/**`, reason: 'INC-7', expires })
      .expect(201);
    await get('/v2/allowed/denied/app/manifests/v1').expect(200);
    await get('/v2/allowed/denied/app/manifests/v1').expect(200);
    const now = await effects();
    assert.deepEqual(now.audited, ['breakglass.use']);
    assert.equal(now.deniedBlob, 200);
    assert.deepEqual(now.decisions.slice(0, 3), [
      `${upstream.host}/allowed/denied/app break-glass`,
      `${upstream.host}/allowed/denied/app break-glass`,
      `${upstream.host}/allowed/denied/app denied`,
    ]);
    assert.equal(now.verifications, 2, 'the denial was verified once and cached; break glass is never cached');
    await request(tg.app).delete(`/admin/v1/breakglass/${entry.body.id}`).set('authorization', km).expect(200);
    assert.equal((await effects()).deniedBlob, 403);
  });
});
