import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaType } from '../../src/oci/media-types.ts';
import { appFor, singleUpstream, type Harness } from '../support/app-harness.ts';
import { digestOf, manifestAnswer, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

/** The metric names dashboards and alerts may use (test/deploy checks them against this list too). */
export const METRIC_NAMES = [
  'trustgate_decisions_total',
  'trustgate_denied_pulls_total',
  'trustgate_manifest_requests_total',
  'trustgate_blob_bytes_total',
  'trustgate_request_duration_seconds',
  'trustgate_verification_duration_seconds',
  'trustgate_verdict_cache_lookups_total',
  'trustgate_upstream_request_duration_seconds',
  'trustgate_upstream_errors_total',
  'trustgate_trust_store_keys',
  'trustgate_trust_store_version',
  'trustgate_policy_info',
  'trustgate_scan_queue_pending',
  'trustgate_redis_up',
  'trustgate_process_resident_memory_bytes',
  'trustgate_reload_failures_total',
  'trustgate_admin_throttled_total',
  'trustgate_sigstore_root_age_seconds',
  'trustgate_sigstore_root_refresh_interval_seconds',
  'trustgate_sigstore_root_refresh_total',
];

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const image = (seed: string) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(Buffer.from(seed)), size: seed.length },
      layers: [],
    }),
  );
const signed = image('signed');
const unsigned = image('unsigned');
let upstream: FakeUpstream;
let harness: Harness;

function serveSignature(up: FakeUpstream, manifest: Buffer): void {
  const digest = digestOf(manifest);
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'x' },
        image: { 'docker-manifest-digest': digest },
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
  up.on(`/v2/allowed/signed/manifests/${digest.replace(':', '-')}.sig`, manifestAnswer(sigManifest, MediaType.ociManifest));
  up.on(
    `/v2/allowed/signed/blobs/${digestOf(payload)}`,
    (_req, res) => void res.writeHead(200, { 'content-length': payload.length }).end(payload),
  );
}

/** Parses the text exposition into `name{labels}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const text = (await request(harness.app).get('/metrics').expect(200)).text;
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+(?:\{[^}]*\})?) ([0-9.eE+-]+|NaN)$/.exec(line);
    if (match !== null) values.set(match[1]!, Number(match[2]));
  }
  return values;
}
const delta = (before: Map<string, number>, after: Map<string, number>, series: string): number =>
  (after.get(series) ?? 0) - (before.get(series) ?? 0);

before(async () => {
  upstream = await startFakeUpstream();
  upstream.on('/v2/allowed/signed/manifests/v1', manifestAnswer(signed, MediaType.ociManifest));
  upstream.on('/v2/allowed/unsigned/manifests/v1', manifestAnswer(unsigned, MediaType.ociManifest));
  serveSignature(upstream, signed);
  harness = await appFor(singleUpstream(upstream.url), {
    policy: `version: 1\nrules:\n  - { name: signed, images: ["${upstream.host}/allowed/**"] }\n`,
    keys: [{ id: 'ci', pem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes: [`${upstream.host}/**`] }],
  });
});
after(async () => {
  await harness.close();
  await upstream.close();
});

describe('metrics', () => {
  it('before any pull, the runtime exports each error kind of the configured upstream at 0', async () => {
    const values = await scrape();
    for (const kind of ['unreachable', 'timeout', 'bad_response', 'rate_limited', 'redirect_refused']) {
      assert.equal(values.get(`trustgate_upstream_errors_total{upstream="up",kind="${kind}"}`), 0, kind);
    }
    assert.equal(values.get('trustgate_decisions_total{outcome="deny",upstream="up"}'), 0);
  });

  it('a scripted set of pulls moves each counter and histogram by exactly its share', async () => {
    const before = await scrape();
    await request(harness.app).get('/v2/allowed/signed/manifests/v1').expect(200); // verified: allow
    await request(harness.app).get('/v2/allowed/signed/manifests/v1').expect(200); // cached
    await request(harness.app).head('/v2/allowed/signed/manifests/v1').expect(200); // cached
    await request(harness.app).get('/v2/allowed/unsigned/manifests/v1').expect(403); // verified: deny unsigned
    await request(harness.app).get('/v2/secret/app/manifests/v1').expect(403); // source not allowed
    const after = await scrape();
    const d = (series: string) => delta(before, after, series);
    assert.equal(d('trustgate_decisions_total{outcome="allow",reason="none",rule="signed",upstream="up"}'), 3);
    assert.equal(d('trustgate_decisions_total{outcome="deny",reason="unsigned",rule="signed",upstream="up"}'), 1);
    assert.equal(d('trustgate_decisions_total{outcome="deny",reason="source_not_allowed",rule="source-allowlist",upstream="up"}'), 1);
    assert.equal(d('trustgate_denied_pulls_total{reason="unsigned",upstream="up"}'), 1);
    assert.equal(d('trustgate_denied_pulls_total{reason="source_not_allowed",upstream="up"}'), 1);
    assert.equal(d('trustgate_verification_duration_seconds_count{result="allow"}'), 1);
    assert.equal(d('trustgate_verification_duration_seconds_count{result="deny"}'), 1);
    assert.equal(d('trustgate_verdict_cache_lookups_total{layer="memory",result="hit"}'), 2);
    assert.equal(d('trustgate_verdict_cache_lookups_total{layer="memory",result="miss"}'), 2);
    assert.equal(d('trustgate_manifest_requests_total{method="GET",upstream="up",status="200"}'), 2);
    assert.equal(d('trustgate_manifest_requests_total{method="HEAD",upstream="up",status="200"}'), 1);
    assert.equal(d('trustgate_manifest_requests_total{method="GET",upstream="up",status="403"}'), 2);
    assert.equal(d('trustgate_request_duration_seconds_count{route="/v2/<name>/manifests/<ref>",method="GET"}'), 4);
    assert.equal(d('trustgate_request_duration_seconds_count{route="/v2/<name>/manifests/<ref>",method="HEAD"}'), 1);
    assert.ok(d('trustgate_upstream_request_duration_seconds_count{upstream="up",op="signature"}') >= 2, 'the .sig lookups were timed');
    assert.equal(after.get('trustgate_trust_store_keys{status="active"}'), 1);
    assert.equal(after.get('trustgate_scan_queue_pending'), 0);
  });

  it('no label value carries an image name, a digest or a registry host', async () => {
    const text = (await request(harness.app).get('/metrics')).text;
    for (const line of text.split('\n').filter((l) => l.includes('{'))) {
      const labels = line.slice(line.indexOf('{'), line.indexOf('}') + 1);
      assert.ok(!/allowed\/|secret\/|sha256|127\.0\.0\.1/.test(labels), line);
    }
  });

  it('every metric name dashboards and alerts use is exported', async () => {
    const text = (await request(harness.app).get('/metrics')).text;
    for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  });
});
