// Every blob-gate refusal is reported (docs/architecture.md "One pull pipeline"), the refusal of a
// blob reachable only through a signature artifact that does not parse as its declared format
// included: it is the one that marks an attack (a runnable layer dressed as a signature,
// docs/integrity.md), so it must leave a `decision` record with its request id and client address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { Graph, type Image, type Pushed } from '../gate/integrity-support.ts';

let upstream: FakeUpstream;
let tg: AdminApp;
let victim: Image;
let fake: Pushed;

before(async () => {
  upstream = await startFakeUpstream();
  const graph = new Graph(upstream);
  victim = graph.image('allowed/app', 'victim', ['v1']); // unsigned: denied
  fake = graph.fakeSignature('allowed/app', victim, graph.configBlob({}), ['fake']);
  const policy = `version: 1\nrules:\n  - { name: signed, images: ["${upstream.host}/allowed/**"] }\n`;
  tg = await adminApp(singleUpstream(upstream.url), { policy });
});
after(async () => {
  await tg?.close();
  await upstream?.close();
});

const decisionsFor = (digest: string) =>
  tg.logs.records.filter(
    (r) => (r.record as { event?: string; digest?: string }).event === 'decision' && (r.record as { digest?: string }).digest === digest,
  );

describe('every blob-gate refusal is reported', () => {
  it('the ordinary blob-gate refusal is reported (control)', async () => {
    await request(tg.app).get(`/v2/allowed/app/manifests/v1`).expect(403);
    await request(tg.app).get(`/v2/allowed/app/blobs/${victim.config.digest}`).expect(403);
    assert.equal(decisionsFor(victim.config.digest).length, 1);
  });

  it('a runnable layer dressed as a signature: refused, and reported like every other refusal', async () => {
    await request(tg.app).get(`/v2/allowed/app/manifests/${fake.digest}`).expect(200); // served as a signature artifact
    const res = await request(tg.app).get(`/v2/allowed/app/blobs/${victim.layer.digest}`);
    assert.equal(res.status, 403, 'the layer is refused (it does not parse as simple signing)');
    assert.match(String(res.body.errors[0].message), /only a signature artifact names this blob/);
    assert.equal(
      decisionsFor(victim.layer.digest).length,
      1,
      'no `decision` log record (event, rule blob-gate, requestId, clientAddress) for the refused fake-signature layer',
    );
  });
});
