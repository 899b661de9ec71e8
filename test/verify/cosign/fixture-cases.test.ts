// containers/image fixture cases ci-01…ci-15 (test/fixtures/README.md): cosign key signatures.
// ci-16…ci-26 (Rekor SETs, Fulcio and PKI certificates) are in test/verify/sigstore/fixture-cases.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSignedReference, verifyCosignSignature } from '../../../src/verify/cosign/index.ts';
import type { CosignSignature, SignatureFinding } from '../../../src/verify/types.ts';
import { manifest, rawSignature, trust, trustedKey } from './fixtures.ts';

const cosign = trustedKey('cosign');
const cosign2 = trustedKey('cosign2');
const VALID_REF = '192.168.64.2:5000/cosign-signed-single-sample';
const valid = rawSignature('raw/dir-img-cosign-valid/signature-1');

const ok = (f: SignatureFinding, verifiedBy: string[], signedReference: string): void => {
  assert.equal(f.failure, undefined, f.failure?.message);
  assert.deepEqual(f.verifiedBy, verifiedBy);
  assert.equal(f.signedReference, signedReference);
};
const fails = (f: SignatureFinding, kind: string, verifiedBy: string[] = []): void => {
  assert.equal(f.failure?.kind, kind, f.failure?.message);
  assert.deepEqual(f.verifiedBy, verifiedBy);
};

describe('cosign key signatures (ci-01…ci-15)', () => {
  test('ci-01 valid/signature-1 with cosign.pub › valid', () => {
    ok(verifyCosignSignature(valid, manifest('dir-img-cosign-valid'), trust([cosign]), Date.now()), ['cosign'], VALID_REF);
  });
  test('ci-02 key set {cosign2, cosign}, either order › valid, verified by cosign only', () => {
    ok(verifyCosignSignature(valid, manifest('dir-img-cosign-valid'), trust([cosign2, cosign]), Date.now()), ['cosign'], VALID_REF);
    ok(verifyCosignSignature(valid, manifest('dir-img-cosign-valid'), trust([cosign, cosign2]), Date.now()), ['cosign'], VALID_REF);
  });
  test('ci-03 cosign2.pub only › crypto', () => {
    fails(verifyCosignSignature(valid, manifest('dir-img-cosign-valid'), trust([cosign2]), Date.now()), 'crypto');
  });
  test('ci-04 valid-2: both signatures › valid', () => {
    for (const n of [1, 2]) {
      const sig = rawSignature(`raw/dir-img-cosign-valid-2/signature-${n}`);
      ok(verifyCosignSignature(sig, manifest('dir-img-cosign-valid-2'), trust([cosign]), Date.now()), ['cosign'], VALID_REF);
    }
  });
  test('ci-05 valid-with-tag, exact reference …/skopeo-signed:tag › valid, identity matches', () => {
    const f = verifyCosignSignature(
      rawSignature('raw/dir-img-cosign-valid-with-tag/signature-1'),
      manifest('dir-img-cosign-valid-with-tag'),
      trust([cosign]),
      Date.now(),
    );
    ok(f, ['cosign'], '192.168.64.2:5000/skopeo-signed:tag');
    assert.equal(matchesSignedReference(f.signedReference, { mode: 'exact', reference: '192.168.64.2:5000/skopeo-signed:tag' }), true);
  });
  test('ci-06 valid-with-tag, exact reference …/skopeo-signed:othertag › identity does not match (repository would)', () => {
    const f = verifyCosignSignature(
      rawSignature('raw/dir-img-cosign-valid-with-tag/signature-1'),
      manifest('dir-img-cosign-valid-with-tag'),
      trust([cosign]),
      Date.now(),
    );
    assert.equal(f.failure, undefined);
    assert.equal(
      matchesSignedReference(f.signedReference, { mode: 'exact', reference: '192.168.64.2:5000/skopeo-signed:othertag' }),
      false,
    );
    assert.equal(
      matchesSignedReference(f.signedReference, { mode: 'repository', reference: '192.168.64.2:5000/skopeo-signed:othertag' }),
      true,
    );
  });
  test('ci-07 valid/signature-1, required reference this/does-not:match › identity does not match in either mode', () => {
    const f = verifyCosignSignature(valid, manifest('dir-img-cosign-valid'), trust([cosign]), Date.now());
    for (const mode of ['exact', 'repository'] as const) {
      assert.equal(matchesSignedReference(f.signedReference, { mode, reference: 'this/does-not:match' }), false);
    }
  });
  test('ci-08 unknown-cosign-key.signature with cosign.pub › crypto', () => {
    fails(
      verifyCosignSignature(
        rawSignature('raw/unknown-cosign-key.signature'),
        manifest('dir-img-cosign-valid'),
        trust([cosign]),
        Date.now(),
      ),
      'crypto',
    );
  });
  test('ci-09 valid signature on modified-manifest › digest, still verified by cosign', () => {
    const f = verifyCosignSignature(
      rawSignature('raw/dir-img-cosign-modified-manifest/signature-1'),
      manifest('dir-img-cosign-modified-manifest'),
      trust([cosign]),
      Date.now(),
    );
    fails(f, 'digest', ['cosign']);
    assert.equal(f.failure?.message, 'signed for sha256:634a8f35b5f1… not sha256:d9dcafdb480a…');
  });
  test('ci-10 valid signature on the schema1 manifest-digest-error (raw sha256 as subject) › digest', () => {
    const subject = manifest('dir-img-cosign-manifest-digest-error');
    assert.equal(subject.digest, 'sha256:dc6d2c1a204b02b1ed4d0a9b29f075d24317a37da08041f89a88a2ebffbe46d8');
    fails(
      verifyCosignSignature(rawSignature('raw/dir-img-cosign-manifest-digest-error/signature-1'), subject, trust([cosign]), Date.now()),
      'digest',
      ['cosign'],
    );
  });
  test('ci-11 other-attachment (text/plain, copied annotation) › format', () => {
    fails(
      verifyCosignSignature(
        rawSignature('raw/dir-img-cosign-other-attachment/signature-1'),
        manifest('dir-img-cosign-other-attachment'),
        trust([cosign]),
        Date.now(),
      ),
      'format',
    );
  });
  test('ci-12 annotation replaced by base64("invalid signature") › crypto', () => {
    const sig: CosignSignature = { ...valid, annotations: { 'dev.cosignproject.cosign/signature': 'aW52YWxpZCBzaWduYXR1cmU=' } };
    fails(verifyCosignSignature(sig, manifest('dir-img-cosign-valid'), trust([cosign]), Date.now()), 'crypto');
  });
  test('ci-13 valid payload with no annotations › format', () => {
    fails(verifyCosignSignature({ ...valid, annotations: {} }, manifest('dir-img-cosign-valid'), trust([cosign]), Date.now()), 'format');
  });
  test('ci-14 valid signature, payload with one bit flipped › crypto', () => {
    for (const at of [0, 100, valid.payload.length - 1]) {
      const payload = Buffer.from(valid.payload);
      payload[at]! ^= 0x01;
      fails(verifyCosignSignature({ ...valid, payload }, manifest('dir-img-cosign-valid'), trust([cosign]), Date.now()), 'crypto');
    }
  });
  test('ci-15 mixed: signature-1 (unknown key) crypto, signature-2 valid › image allowed by one', () => {
    const subject = manifest('dir-img-cosign-mixed');
    const findings = [1, 2].map((n) =>
      verifyCosignSignature(rawSignature(`raw/dir-img-cosign-mixed/signature-${n}`), subject, trust([cosign]), Date.now()),
    );
    fails(findings[0]!, 'crypto');
    ok(findings[1]!, ['cosign'], VALID_REF);
    assert.equal(findings.filter((f) => !f.failure).length, 1);
  });
});
