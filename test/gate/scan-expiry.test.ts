import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

// A cached allow must end when an exemption it relies on expires, or when its scan turns stale,
// even though nothing else changes: a controlled clock, long verdict TTLs, no policy change.
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('cfg')), size: 3 },
    layers: [],
  }),
);
const DIGEST = digestOf(manifest) as Digest;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
let clock = T0;
let upstream: FakeUpstream;
let harness: Harness;

before(async () => {
  upstream = await startFakeUpstream();
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'x' },
        image: { 'docker-manifest-digest': DIGEST },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  const sigManifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from('{}')), size: 2 },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          digest: digestOf(payload),
          size: payload.length,
          annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, key.privateKey).toString('base64') },
        },
      ],
    }),
  );
  upstream.on('/v2/allowed/app/manifests/v1', manifestAnswer(manifest, MediaType.ociManifest));
  upstream.on(`/v2/allowed/app/manifests/${DIGEST.replace(':', '-')}.sig`, manifestAnswer(sigManifest, MediaType.ociManifest));
  upstream.on(
    `/v2/allowed/app/blobs/${digestOf(payload)}`,
    (_req, res) => void res.writeHead(200, { 'content-length': payload.length }).end(payload),
  );
  const exemptionEnds = new Date(T0 + 2 * HOUR).toISOString();
  harness = await appFor(`${singleUpstream(upstream.url)}\ngate: { verdicts: { allowTtlMs: 86400000, denyTtlMs: 86400000 } }`, {
    now: () => clock,
    policy: `version: 1
rules:
  - name: scanned
    images: ["${upstream.host}/allowed/**"]
    scan: { maxSeverity: HIGH, maxAge: 1d, allow: [{ id: CVE-2026-0001, expires: "${exemptionEnds}" }] }
`,
    keys: [{ id: 'ci', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${upstream.host}/**`] }],
  });
  await harness.runtime.scans.put({
    digest: DIGEST,
    scanner: 'trivy test',
    finishedAt: T0 - HOUR,
    source: 'report',
    findings: [{ id: 'CVE-2026-0001', severity: 'CRITICAL', pkg: 'libfoo', installed: '1.0', fixedIn: '1.1' }],
    counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 1 },
  });
});
after(async () => {
  await harness.close();
  await upstream.close();
});

describe('a cached allow and the clock', () => {
  it('allowed while the exemption holds, and served from the cache', async () => {
    await request(harness.app).get('/v2/allowed/app/manifests/v1').expect(200);
    clock = T0 + HOUR;
    await request(harness.app).get('/v2/allowed/app/manifests/v1').expect(200);
  });
  it('denied as vulnerable once the exemption expires, though the allow TTL is a day', async () => {
    clock = T0 + 2 * HOUR;
    const res = await request(harness.app).get('/v2/allowed/app/manifests/v1');
    assert.equal(res.status, 403);
    assert.match(JSON.parse(res.text).errors[0].message, /CVE-2026-0001/);
  });
});
