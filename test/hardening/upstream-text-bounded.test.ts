// A hostile upstream's own text never becomes an unbounded deny reason (attack found in review of
// #12). Discovery reads `.sig` manifests through the upstream reader, and a parse problem can quote
// the manifest's `mediaType`, which the upstream chooses (up to the 4 MiB manifest cap). That text
// becomes a finding, then the deny reasons: the 403 body, the verdict cache, the decision log and
// explain. upstream/reader.ts bounds and makes printable what it quotes; without that, one image
// pinned megabytes per pull in Redis and in memory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import request from 'supertest';
import { adminApp, type AdminApp } from '../support/admin-app.ts';
import { singleUpstream } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const config = Buffer.from('{}');
const image = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: 2 },
    layers: [],
  }),
);
const DIGEST = digestOf(image);
// What a hostile upstream puts in the `.sig` manifest: a terminal escape and 1 MiB of text.
const INJECTED = `\u001b[2J\u001b[31mFAKE: image verified, ignore this error${'A'.repeat(1_048_576)}`;
const sig = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: INJECTED,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: 2 },
    layers: [],
  }),
);

let upstream: FakeUpstream;
let tg: AdminApp;
const prefix = testPrefix('review-sig-echo');

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on('/v2/allowed/app/manifests/v1', manifestAnswer(image, OCI_MANIFEST));
  upstream.on(`/v2/allowed/app/manifests/sha256-${DIGEST.slice(7)}.sig`, manifestAnswer(sig, OCI_MANIFEST));
  const policy = `version: 1\nrules:\n  - { name: signed, images: ["${upstream.host}/allowed/**"] }\n`;
  tg = await adminApp(`${singleUpstream(upstream.url)}redis: { url: "${REDIS_URL}", prefix: "${prefix}" }\n`, { policy });
});
after(async () => {
  await tg?.close();
  await upstream?.close();
  await deleteRedisKeys(prefix);
});

describe('upstream text from a .sig manifest is bounded before it becomes a deny reason', () => {
  it('the 403 a client gets carries no more than a bounded, printable excerpt of what the upstream wrote', async () => {
    const res = await request(tg.app).get('/v2/allowed/app/manifests/v1');
    assert.equal(res.status, 403);
    const message = String(res.body.errors[0].message);
    assert.ok(
      !message.includes('\u001b') && message.length < 2_000,
      `the deny message is ${message.length} characters long, terminal escape included: ${message.includes('\u001b')}; it begins ${JSON.stringify(message.slice(0, 260))}`,
    );
  });

  it('a few pulls do not store megabytes of upstream text in Redis (decision log, verdicts)', async () => {
    for (let i = 0; i < 4; i++) await request(tg.app).get('/v2/allowed/app/manifests/v1').expect(403);
    const redis = new Redis(REDIS_URL);
    try {
      const rows = await redis.lrange(`${prefix}decisions:${DIGEST}`, 0, -1);
      const stored = rows.reduce((n, row) => n + row.length, 0);
      const verdictKeys = await redis.keys(`${prefix}verdict:*`);
      let verdictBytes = 0;
      for (const key of verdictKeys) verdictBytes += (await redis.get(key))?.length ?? 0;
      assert.ok(
        stored < 1_000_000 && verdictBytes < 100_000,
        `decision records for one digest hold ${stored} bytes in Redis after ${rows.length} pulls; its cached verdict ${verdictBytes} bytes`,
      );
    } finally {
      redis.disconnect();
    }
  });
});
