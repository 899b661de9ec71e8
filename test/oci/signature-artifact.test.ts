import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseManifest, type ParsedManifest } from '../../src/oci/manifest.ts';
import {
  EMPTY_CONFIG,
  isReferrersListing,
  isSignatureConfig,
  parsesAsSignatureBlob,
  signatureCandidate,
} from '../../src/oci/signature-artifact.ts';

const digest = (bytes: Buffer | string): `sha256:${string}` => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const SIG = 'application/vnd.dev.cosign.simplesigning.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const payload = Buffer.from(
  JSON.stringify({
    critical: {
      identity: { 'docker-reference': 'r/a' },
      image: { 'docker-manifest-digest': digest('x') },
      type: 'cosign container image signature',
    },
    optional: null,
  }),
);
const layer = { mediaType: SIG, digest: digest(payload), size: payload.length };

function manifest(doc: Record<string, unknown>, type = 'application/vnd.oci.image.manifest.v1+json'): ParsedManifest {
  const parsed = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: type, ...doc })), type);
  assert.ok(parsed.ok);
  return parsed.manifest;
}
const cosignConfig = (extra: Record<string, unknown> = {}, diffIds = [layer.digest]): Buffer =>
  Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: diffIds }, config: {}, ...extra }));

describe('signature artifacts, by their own content', () => {
  it('a cosign .sig manifest whose config runs nothing and names exactly its layers › a signature artifact', () => {
    const config = cosignConfig();
    const candidate = signatureCandidate(
      manifest({ config: { mediaType: OCI_CONFIG, digest: digest(config), size: config.length }, layers: [layer] }),
    );
    assert.ok(candidate);
    assert.equal(candidate.configKnown, false, 'the config must be read');
    assert.equal(isSignatureConfig(config, candidate), true);
  });

  it('the OCI empty config needs no read: its digest fixes its bytes', () => {
    const candidate = signatureCandidate(
      manifest({
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: EMPTY_CONFIG,
        layers: [{ ...layer, mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      }),
    );
    assert.equal(candidate?.configKnown, true);
    assert.equal(
      signatureCandidate(manifest({ config: { ...EMPTY_CONFIG, digest: digest('{"a":1}') }, layers: [layer] })),
      undefined,
      'an "empty" config with other bytes',
    );
  });

  it('never an index, whatever its artifactType or its children declare; nor an index with no children', () => {
    const index = 'application/vnd.oci.image.index.v1+json';
    const child = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digest('c'),
      size: 1,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      platform: { os: 'linux', architecture: 'amd64' },
    };
    assert.equal(
      signatureCandidate(manifest({ artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', manifests: [child] }, index)),
      undefined,
    );
    assert.equal(
      signatureCandidate(manifest({ artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', manifests: [] }, index)),
      undefined,
    );
  });

  it('a runnable layer, no layers, or an unknown config type › not a candidate', () => {
    const config = { mediaType: OCI_CONFIG, digest: digest('{}'), size: 2 };
    assert.equal(
      signatureCandidate(
        manifest({ config, layers: [layer, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('t'), size: 1 }] }),
      ),
      undefined,
    );
    assert.equal(signatureCandidate(manifest({ config, layers: [] })), undefined);
    assert.equal(signatureCandidate(manifest({ config: { ...config, mediaType: 'application/x-anything' }, layers: [layer] })), undefined);
  });

  it("a denied image's config reused (runnable, or naming other layers) › not a signature config", () => {
    const runnable = cosignConfig({ config: { Entrypoint: ['/bin/sh'], Env: ['PATH=/bin'] } });
    const other = cosignConfig({}, [digest('uncompressed tar')]);
    for (const config of [runnable, other]) {
      const candidate = signatureCandidate(
        manifest({ config: { mediaType: OCI_CONFIG, digest: digest(config), size: config.length }, layers: [layer] }),
      );
      assert.ok(candidate);
      assert.equal(isSignatureConfig(config, candidate), false);
    }
  });

  it('notation: its own config type, whose blob is {}', () => {
    const jws = { ...layer, mediaType: 'application/jose+json' };
    const candidate = signatureCandidate(
      manifest({ config: { mediaType: 'application/vnd.cncf.notary.signature', digest: digest('{"x":1}'), size: 7 }, layers: [jws] }),
    );
    assert.ok(candidate);
    assert.equal(isSignatureConfig(Buffer.from('{"x":1}'), candidate), false);
    assert.equal(isSignatureConfig(Buffer.from('{}'), candidate), true);
  });
});

describe('signature blobs are served only when they parse as declared', () => {
  const gzip = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]);
  it('each format accepts its own shape and refuses a gzip or tar layer', () => {
    const cases: Array<[string, unknown]> = [
      [SIG, JSON.parse(payload.toString())],
      ['application/vnd.dsse.envelope.v1+json', { payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [] }],
      ['application/jose+json', { protected: 'e30', payload: 'e30', signature: 'c2ln' }],
      ['application/vnd.dev.sigstore.bundle.v0.3+json', { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      ['application/vnd.in-toto+json', { _type: 'https://in-toto.io/Statement/v1' }],
      ['signature-config', { rootfs: { diff_ids: [] }, config: {} }],
    ];
    for (const [format, doc] of cases) {
      assert.equal(parsesAsSignatureBlob(Buffer.from(JSON.stringify(doc)), format), true, format);
      assert.equal(parsesAsSignatureBlob(gzip, format), false, `${format}: gzip`);
      assert.equal(parsesAsSignatureBlob(Buffer.from('ustar\0'.padEnd(512, '\0')), format), false, `${format}: tar`);
    }
    assert.equal(parsesAsSignatureBlob(Buffer.from([0xd2, 0x84, 0x43]), 'application/cose'), true);
    assert.equal(parsesAsSignatureBlob(gzip, 'application/cose'), false);
    assert.equal(
      parsesAsSignatureBlob(Buffer.from(JSON.stringify({ config: { Cmd: ['sh'] } })), 'signature-config'),
      false,
      'a runnable config',
    );
    assert.equal(parsesAsSignatureBlob(Buffer.from('{}'), 'application/vnd.oci.image.layer.v1.tar'), false, 'an unknown format');
  });
});

describe('the referrers fallback tag', () => {
  const index = manifest({ manifests: [] }, 'application/vnd.oci.image.index.v1+json');
  it('an index asked for by sha256-<hex> is a listing; by another tag, or by digest, it is not', () => {
    assert.equal(isReferrersListing({ kind: 'tag', tag: `sha256-${'a'.repeat(64)}` }, index), true);
    assert.equal(isReferrersListing({ kind: 'tag', tag: `sha256-${'a'.repeat(64)}.sig` }, index), false);
    assert.equal(isReferrersListing({ kind: 'tag', tag: 'latest' }, index), false);
    assert.equal(isReferrersListing({ kind: 'digest', digest: `sha256:${'a'.repeat(64)}` }, index), false);
  });
  it('an image manifest under that tag is not a listing', () => {
    assert.equal(
      isReferrersListing({ kind: 'tag', tag: `sha256-${'a'.repeat(64)}` }, manifest({ config: EMPTY_CONFIG, layers: [layer] })),
      false,
    );
  });
});
