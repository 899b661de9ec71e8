// The gate end to end (src/registry discovery, src/verify, src/policy, src/gate, the pull path):
// the real app in front of an in-process upstream that serves, for each case, a new image and one
// signature (cosign `.sig`, sigstore bundle or notation referrer) built by the verifier targets'
// mutators. A pull is served (200) only when the oracle says the signature is intact; a hostile
// upstream's signature artifacts never get an image served; nothing answers 500.
import assert from 'node:assert/strict';
import { sign, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { MediaType } from '../../../src/oci/media-types.ts';
import type { Subject } from '../../../src/verify/types.ts';
import { appFor, singleUpstream, type Harness } from '../../support/app-harness.ts';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.ts';
import { TrustgateError } from '../../../src/errors/errors.ts';
import { discoverVulnAttestations } from '../../../src/discovery/attestations.ts';
import { verifyVulnAttestation } from '../../../src/verify/cosign/vuln-attestation.ts';
import { COSIGN_SIGNATURE_ANNOTATION, dssePae } from '../../kit/cosign-sign.ts';
import {
  anyBytes,
  applyEdits,
  assertTyped,
  hostileBody,
  jsonEdit,
  jsonish,
  jsonText,
  settle,
  settleAsync,
  sha256,
} from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { bundleCase, bundleMutation, cosignCase, cosignMutation, type BundleMutation, type CosignMutation } from './cosign.ts';
import { sharedCosignKeys, sharedPki, subjectOf } from './crypto-kit.ts';
import { notationCase, notationMutation, type NotationMutation, type Signing } from './notation.ts';

const REPO = 'allowed/app';
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 };
const NOTATION = 'application/vnd.cncf.notary.signature';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

interface Answer {
  readonly status: number;
  readonly type?: string;
  readonly body: Buffer;
}
type Routes = Map<string, Answer>;

/** Serves whatever this case put in `routes` (exact path), 404 otherwise. */
function serve(upstream: FakeUpstream, routes: Routes): void {
  upstream.on('*', (req, res) => {
    const answer = routes.get((req.url ?? '').split('?')[0]!);
    if (answer === undefined)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
    const headers: Record<string, string | number> = { 'content-length': answer.body.length };
    if (answer.type !== undefined) headers['content-type'] = answer.type;
    if (answer.status === 200 && answer.type !== undefined && (req.url ?? '').includes('/manifests/'))
      headers['docker-content-digest'] = sha256(answer.body);
    res.writeHead(answer.status, headers).end(req.method === 'HEAD' ? undefined : answer.body);
  });
}

let nonce = 0;
/** A new image every case (the nonce keeps digests apart, so no verdict is reused). */
function newImage(routes: Routes): Subject {
  nonce += 1;
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(`config ${nonce}`), size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(`layer ${nonce}`), size: 10 }],
    }),
  );
  const subject = subjectOf(bytes);
  routes.set(`/v2/${REPO}/manifests/${subject.digest}`, { status: 200, type: MediaType.ociManifest, body: bytes });
  return subject;
}

const blob = (routes: Routes, bytes: Buffer): { digest: string; size: number } => {
  const digest = sha256(bytes);
  routes.set(`/v2/${REPO}/blobs/${digest}`, { status: 200, body: bytes });
  return { digest, size: bytes.length };
};

/** The cosign `.sig` manifest: one simple-signing layer (cosign SIGNATURE_SPEC.md). */
function serveCosign(
  routes: Routes,
  subject: Subject,
  layer: { mediaType: string; payload: Buffer; annotations: Record<string, string> },
): void {
  const manifest = Buffer.from(
    jsonText({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(routes, Buffer.from('{}')) },
      layers: [{ mediaType: layer.mediaType, ...blob(routes, layer.payload), annotations: layer.annotations }],
    }),
  );
  routes.set(`/v2/${REPO}/manifests/${subject.digest.replace(':', '-')}.sig`, { status: 200, type: MediaType.ociManifest, body: manifest });
}

/** An OCI 1.1 referrer listed in the fallback tag index (distribution-spec "Referrers Tag Schema"). */
function serveReferrer(routes: Routes, subject: Subject, artifactType: string, layerType: string, bytes: Buffer): void {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType,
      config: EMPTY,
      layers: [{ mediaType: layerType, ...blob(routes, bytes) }],
      subject: { mediaType: MediaType.ociManifest, digest: subject.digest, size: subject.size },
    }),
  );
  const digest = sha256(manifest);
  routes.set(`/v2/${REPO}/manifests/${digest}`, { status: 200, type: MediaType.ociManifest, body: manifest });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ mediaType: MediaType.ociManifest, digest, size: manifest.length, artifactType }],
    }),
  );
  routes.set(`/v2/${REPO}/manifests/${subject.digest.replace(':', '-')}`, { status: 200, type: MediaType.ociIndex, body: index });
}

/** A DSSE vuln attestation (cosign ATTESTATION_SPEC.md) for `digest`, signed by `key`. */
function attackerEnvelope(digest: string, key: KeyObject): Buffer {
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      subject: [{ name: REPO, digest: { sha256: digest.slice(7) } }],
      predicate: {
        scanner: { uri: 'trivy', version: '0.50.0', result: { SchemaVersion: 2, Results: [] } },
        metadata: { scanFinishedOn: new Date().toISOString() },
      },
    }),
  );
  const type = 'application/vnd.in-toto+json';
  return Buffer.from(
    JSON.stringify({
      payloadType: type,
      payload: statement.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', dssePae(type, statement), key).toString('base64') }],
    }),
  );
}

type GateCase =
  | { readonly scheme: 'cosign'; readonly signer: number; readonly m: CosignMutation }
  | { readonly scheme: 'bundle'; readonly signer: number; readonly dsse: boolean; readonly m: BundleMutation }
  | { readonly scheme: 'notation'; readonly m: NotationMutation };

// Mutations that swap the subject, the trust store or the clock only make sense for a verifier alone.
const gateCase: fc.Arbitrary<GateCase> = fc.oneof(
  fc.record({
    scheme: fc.constant('cosign' as const),
    signer: fc.nat(),
    m: cosignMutation.filter((m) => m.kind !== 'other-subject' && m.kind !== 'untrusted-signer'),
  }),
  fc.record({
    scheme: fc.constant('bundle' as const),
    signer: fc.nat(),
    dsse: fc.boolean(),
    m: bundleMutation.filter((m) => m.kind !== 'other-subject'),
  }),
  fc.record({
    scheme: fc.constant('notation' as const),
    m: notationMutation.filter((m) => m.kind !== 'other-subject' && m.kind !== 'clock'),
  }),
);

export const gateTarget: FuzzTarget = {
  name: 'gate',
  async open() {
    const keys = sharedCosignKeys();
    const [pki, attacker] = await Promise.all([sharedPki('ec-chain'), sharedPki('attacker')]);
    const signing: Signing = { pki, alg: 'ES256', rootId: 'ca-ec' };
    const upstream = await startFakeUpstream();
    const routes: Routes = new Map();
    serve(upstream, routes);
    const scopes = [`${upstream.host}/**`];
    let harness: Harness | undefined;
    try {
      harness = await appFor(singleUpstream(upstream.url), {
        policy: `version: 1\nrules:\n  - { name: signed, images: ["${upstream.host}/allowed/**"] }\n`,
        keys: [
          ...keys.trusted.map((k) => ({ id: k.id, pem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes })),
          { id: 'ca-ec', pem: new X509Certificate(pki.root.certPem).toString(), kind: 'crt' as const, scopes },
        ],
      });
    } catch (error) {
      await upstream.close();
      throw error;
    }
    // One listening server for every pull (supertest would start and stop one per request).
    const server = createServer(harness.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = harness.runtime.deps.upstreams.get('up').client;
    const pull = async (subject: Subject): Promise<number> => {
      const res = await request(server).get(`/v2/${REPO}/manifests/${subject.digest}`);
      assert.notEqual(res.status, 500, res.text);
      if (res.status === 200) assert.equal(sha256(res.text), subject.digest, 'served bytes other than the digest pulled');
      return res.status;
    };
    return {
      properties: [
        {
          name: 'a pull is served only with an intact signature: every mutation the oracle rejects is denied (403)',
          weight: 0.5,
          property: fc.asyncProperty(gateCase, async (c) => {
            routes.clear();
            const subject = newImage(routes);
            let expect: 'allow' | 'deny' | 'any';
            if (c.scheme === 'cosign') {
              const built = cosignCase(keys, keys.trusted[c.signer % keys.trusted.length]!, subject, c.m);
              serveCosign(routes, subject, built.artifact);
              expect = built.expect;
            } else if (c.scheme === 'bundle') {
              const built = bundleCase(keys, keys.trusted[c.signer % keys.trusted.length]!, subject, c.dsse, c.m);
              serveReferrer(routes, subject, BUNDLE, BUNDLE, built.bundle);
              expect = built.expect;
            } else {
              const built = notationCase(signing, attacker, subject, c.m);
              serveReferrer(routes, subject, NOTATION, built.mediaType, built.envelope);
              // notationCase judges at its own clock, a minute ahead of the app's: an expiry set to that
              // instant (0 days) is past there and still to come here, so either answer is right.
              const atCaseClock = c.m.kind === 'header-resigned' && c.m.change.kind === 'expiry' && c.m.change.days === 0;
              expect = atCaseClock ? 'any' : built.expect;
            }
            const status = await pull(subject);
            const what = `${c.scheme} ${c.m.kind}`;
            if (expect === 'deny') assert.equal(status, 403, `${what}: a pull the oracle denies answered ${status}`);
            else if (expect === 'allow') assert.equal(status, 200, `${what}: an intact signature answered ${status}`);
            else assert.ok(status === 200 || status === 403, `${what}: ${status}`);
          }),
        },
        {
          name: 'cosign .sig manifests: after any edit, a pull is served only if a layer still carries the signed payload and its signature',
          weight: 0.25,
          property: fc.asyncProperty(fc.nat(), fc.array(jsonEdit, { minLength: 1, maxLength: 4 }), async (signer, edits) => {
            routes.clear();
            const subject = newImage(routes);
            const { artifact } = cosignCase(keys, keys.trusted[signer % keys.trusted.length]!, subject, { kind: 'none' });
            const payload = blob(routes, artifact.payload);
            const signature = artifact.annotations[COSIGN_SIGNATURE_ANNOTATION]!;
            const manifest = {
              schemaVersion: 2,
              mediaType: MediaType.ociManifest,
              config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(routes, Buffer.from('{}')) },
              layers: [{ mediaType: artifact.mediaType, ...payload, annotations: artifact.annotations }],
            };
            const edited = applyEdits(manifest, edits);
            routes.set(`/v2/${REPO}/manifests/${subject.digest.replace(':', '-')}.sig`, {
              status: 200,
              type: MediaType.ociManifest,
              body: Buffer.from(jsonText(edited)),
            });
            const layers = (edited as { layers?: unknown } | null)?.layers;
            const intact =
              Array.isArray(layers) &&
              layers.some((l) => {
                const layer = l as { mediaType?: unknown; digest?: unknown; size?: unknown; annotations?: Record<string, unknown> } | null;
                return (
                  layer?.mediaType === artifact.mediaType &&
                  layer.digest === payload.digest &&
                  layer.size === payload.size &&
                  layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION] === signature
                );
              });
            const status = await pull(subject);
            if (!intact) assert.notEqual(status, 200, 'a .sig manifest without the signed layer got the image served');
            assert.ok([200, 403, 502].includes(status), `answered ${status}`);
          }),
        },
        {
          name: 'vuln attestation discovery: a hostile .att tag gives envelopes or a TrustgateError, and nothing an attacker signed becomes a scan',
          weight: 0.25,
          property: fc.asyncProperty(
            fc.oneof(
              hostileBody.map((b) => ({ manifest: b, layers: [] as Buffer[] })),
              fc
                .array(fc.oneof(hostileBody, fc.constant(undefined)), { minLength: 1, maxLength: 3 })
                .map((layers) => ({ manifest: undefined, layers })),
            ),
            fc.array(fc.constantFrom(undefined, 'https://cosign.sigstore.dev/attestation/vuln/v1', 'https://slsa.dev/provenance/v0.2'), {
              minLength: 3,
              maxLength: 3,
            }),
            async (att, predicateTypes) => {
              routes.clear();
              const subject = newImage(routes);
              const attacker = keys.attackers[0]!;
              // A layer is hostile bytes, or (undefined) a well-formed envelope signed by a key not in the trust store.
              const envelopes = att.layers.map((b) => b ?? attackerEnvelope(subject.digest, attacker.privateKey));
              const manifest =
                att.manifest ??
                Buffer.from(
                  JSON.stringify({
                    schemaVersion: 2,
                    mediaType: MediaType.ociManifest,
                    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(routes, Buffer.from('{}')) },
                    layers: envelopes.map((e, i) => ({
                      mediaType: 'application/vnd.dsse.envelope.v1+json',
                      ...blob(routes, e),
                      ...(predicateTypes[i] === undefined ? {} : { annotations: { predicateType: predicateTypes[i] } }),
                    })),
                  }),
                );
              routes.set(`/v2/${REPO}/manifests/${subject.digest.replace(':', '-')}.att`, {
                status: 200,
                type: MediaType.ociManifest,
                body: manifest,
              });
              const found = await settleAsync(() =>
                discoverVulnAttestations(client, REPO, subject.digest, { maxSignatures: 50, maxBlobBytes: 1_048_576, maxRequests: 64 }),
              );
              if (!found.ok) return assertTyped(found.error, TrustgateError);
              for (const envelope of found.value) {
                assert.ok(Buffer.isBuffer(envelope.envelope) && typeof envelope.source === 'string');
                const verified = settle(() =>
                  verifyVulnAttestation(
                    { envelope: envelope.envelope, source: envelope.source },
                    { digest: subject.digest },
                    keys.material.keys,
                    Date.now(),
                  ),
                );
                assert.ok(verified.ok, `threw ${String(!verified.ok && verified.error)}`);
                assert.equal(verified.value.record, undefined, 'an envelope no trusted key signed gave a scan record');
              }
            },
          ),
        },
        {
          name: 'a hostile upstream (random .sig manifests, referrers, fallback indexes, blobs) never gets an image served',
          weight: 0.25,
          property: fc.asyncProperty(
            fc.record({
              sig: fc.option(hostileBody, { nil: undefined }),
              referrersStatus: fc.constantFrom(200, 404, 500, 429),
              referrers: hostileBody,
              fallback: fc.option(
                fc.oneof(
                  hostileBody,
                  jsonish.map((v) =>
                    Buffer.from(
                      jsonText({
                        schemaVersion: 2,
                        mediaType: MediaType.ociIndex,
                        manifests: [v, { mediaType: MediaType.ociManifest, digest: sha256('x'), size: 1, artifactType: NOTATION }],
                      }),
                    ),
                  ),
                ),
                { nil: undefined },
              ),
              blob: anyBytes,
            }),
            async (h) => {
              routes.clear();
              const subject = newImage(routes);
              const tag = subject.digest.replace(':', '-');
              if (h.sig !== undefined)
                routes.set(`/v2/${REPO}/manifests/${tag}.sig`, { status: 200, type: MediaType.ociManifest, body: h.sig });
              routes.set(`/v2/${REPO}/referrers/${subject.digest}`, {
                status: h.referrersStatus,
                type: MediaType.ociIndex,
                body: h.referrers,
              });
              if (h.fallback !== undefined)
                routes.set(`/v2/${REPO}/manifests/${tag}`, { status: 200, type: MediaType.ociIndex, body: h.fallback });
              routes.set(`/v2/${REPO}/blobs/${sha256('x')}`, { status: 200, body: h.blob });
              const status = await pull(subject);
              // Denied, or the upstream's own failure handed on (429, 502, 503): closed either way.
              assert.ok([403, 429, 502, 503].includes(status), `answered ${status}`);
            },
          ),
        },
      ],
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await harness?.close();
        await upstream.close();
      },
    };
  },
};
