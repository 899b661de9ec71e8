// containers/image fixture cases ci-16…ci-26 (test/fixtures/README.md): cosign key signatures with
// a public-good Rekor SET, Fulcio (keyless) and private-PKI certificate signatures, at the
// verifier. Identity and log requirements are the rule's (test/policy/keyless.test.ts); the same
// cases are judged through the app in test/e2e/keyless-fixtures.test.ts.
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyCosignSignature } from '../../../src/verify/cosign/index.ts';
import type { CosignSignature, SignatureFinding } from '../../../src/verify/types.ts';
import {
  manifest,
  PUBLIC_GOOD_JSON,
  publicGoodWithRekorKey,
  rawSignature,
  sigstoreRoot,
  sigstoreRootFromJson,
  subjectOf,
  trust,
  trustedKey,
  withRoots,
} from '../cosign/fixtures.ts';

const NOW = Date.parse('2026-12-04T00:00:00Z');
const cosign = trustedKey('cosign');
const cosign2 = trustedKey('cosign2');
const keyRekor = rawSignature('raw/dir-img-cosign-key-rekor-valid/signature-1');
const valid = rawSignature('raw/dir-img-cosign-valid/signature-1');
const fulcio = rawSignature('raw/dir-img-cosign-fulcio-rekor-valid/signature-1');
const pki = rawSignature('raw/dir-img-cosign-pki-valid/signature-1');
const BUNDLE = 'dev.sigstore.cosign/bundle';
const publicGood = sigstoreRootFromJson('public-good', PUBLIC_GOOD_JSON);
const wrongRekor = publicGoodWithRekorKey('wrong-rekor', 'cosign.pub');
const fulcioOnly = sigstoreRoot('fulcio-only', { ca: ['fulcio_v1.crt.pem'] });
const privatePki = sigstoreRoot('linuxera', { pem: ['pki_root_crts.pem', 'pki_intermediate_crts.pem'] });

const failure = (f: SignatureFinding): string => (f.failure === undefined ? 'valid' : `${f.failure.kind}: ${f.failure.message}`);

describe('cosign key signatures with a Rekor SET (ci-16…ci-20)', () => {
  const subject = manifest('dir-img-cosign-key-rekor-valid');
  test('ci-16 cosign2.pub, SET checked with rekor.pub › valid, with the log entry as evidence', () => {
    const f = verifyCosignSignature(keyRekor, subject, withRoots(trust([cosign2]), [publicGood]), NOW);
    assert.equal(failure(f), 'valid');
    assert.deepEqual(f.verifiedBy, ['cosign2']);
    assert.deepEqual(f.logEntries, [
      { root: 'public-good', logIndex: '11608800', integratedTime: 1674251859000, kind: 'hashedrekord/0.0.1', promise: true, proof: false },
    ]);
    assert.equal(f.logProblems, undefined);
  });
  test('ci-17 the manifest re-serialised compactly › digest (the digest covers the raw bytes)', () => {
    const compact = subjectOf(Buffer.from(JSON.stringify(JSON.parse(subject.bytes.toString()))));
    const f = verifyCosignSignature(keyRekor, compact, withRoots(trust([cosign2]), [publicGood]), NOW);
    assert.equal(f.failure?.kind, 'digest');
  });
  test('ci-18 cosign.pub only › crypto', () => {
    assert.equal(verifyCosignSignature(keyRekor, subject, withRoots(trust([cosign]), [publicGood]), NOW).failure?.kind, 'crypto');
  });
  test('ci-19 Rekor key = cosign.pub › the key signature verifies, its log entry does not (a rule asking for Rekor says tlog_invalid)', () => {
    const f = verifyCosignSignature(keyRekor, subject, withRoots(trust([cosign2]), [wrongRekor]), NOW);
    assert.equal(failure(f), 'valid');
    assert.equal(f.logEntries, undefined);
    assert.deepEqual(f.logProblems, [{ root: 'wrong-rekor', message: 'under "wrong-rekor": inclusion promise could not be verified' }]);
  });
  test('ci-20 the SET of key-rekor-valid on a cosign.pub signature › the entry is not bound to this signature', () => {
    const sig: CosignSignature = { ...valid, annotations: { ...valid.annotations, [BUNDLE]: keyRekor.annotations[BUNDLE]! } };
    const f = verifyCosignSignature(sig, manifest('dir-img-cosign-valid'), withRoots(trust([cosign, cosign2]), [publicGood]), NOW);
    assert.deepEqual(f.verifiedBy, ['cosign']);
    assert.equal(f.logEntries, undefined);
    assert.equal(f.logProblems?.length, 1);
    assert.match(f.logProblems![0]!.message, /^under "public-good": signature mismatch/);
  });
});

describe('certificate signatures (ci-21…ci-26)', () => {
  const fulcioSubject = manifest('dir-img-cosign-fulcio-rekor-valid');
  const pkiSubject = manifest('dir-img-cosign-pki-valid');
  test('ci-21 Fulcio root + chain annotation + rekor.pub › valid at the SET time, with identity and log entry', () => {
    const f = verifyCosignSignature(fulcio, fulcioSubject, withRoots(trust([]), [publicGood]), NOW);
    assert.equal(failure(f), 'valid');
    assert.deepEqual(f.verifiedBy, ['public-good']);
    assert.equal(f.signedReference, '192.168.64.2:5000/cosign-signed/fulcio-rekor-1');
    assert.equal(f.certificates?.length, 1);
    const [evidence] = f.certificates!;
    assert.deepEqual(evidence!.identity, { emails: ['mitr@redhat.com'], uris: [], dnsNames: [], issuer: 'https://github.com/login/oauth' });
    assert.deepEqual(evidence!.signingTime, { source: 'tlog', at: 1674247893000 });
    assert.equal(evidence!.certificateNotAfter, Date.parse('2023-01-20T21:01:31Z'));
    assert.deepEqual(f.logEntries, [
      { root: 'public-good', logIndex: '11605770', integratedTime: 1674247893000, kind: 'hashedrekord/0.0.1', promise: true, proof: false },
    ]);
    assert.equal(f.notAfter, undefined, 'checked at its signing time, the signature does not expire with the certificate');
  });
  test('ci-22 wrong email: the verifier reports the identity; the rule refuses it (identity_mismatch)', () => {
    const f = verifyCosignSignature(fulcio, fulcioSubject, withRoots(trust([]), [publicGood]), NOW);
    assert.notEqual(f.certificates![0]!.identity.emails[0], 'this-does-not-match@example.com');
  });
  test('ci-23 Rekor key = cosign.pub › tlog_invalid', () => {
    const f = verifyCosignSignature(fulcio, fulcioSubject, withRoots(trust([]), [wrongRekor]), NOW);
    assert.equal(failure(f), 'tlog_invalid: under "wrong-rekor": inclusion promise could not be verified');
  });
  test('ci-24 Fulcio root only: no log, so the 10-minute certificate is checked now › certificate_untrusted', () => {
    const f = verifyCosignSignature(fulcio, fulcioSubject, withRoots(trust([]), [fulcioOnly]), NOW);
    assert.equal(f.failure?.kind, 'certificate_untrusted');
    assert.match(f.failure!.message, /^under "fulcio-only": Failed to verify certificate chain/);
  });
  test('ci-25 private PKI roots + intermediates (PEM) › valid at evaluation time, until the leaf expires; email and DNS SANs', () => {
    const f = verifyCosignSignature(pki, pkiSubject, withRoots(trust([]), [privatePki]), NOW);
    assert.equal(failure(f), 'valid');
    assert.deepEqual(f.verifiedBy, ['linuxera']);
    const [evidence] = f.certificates!;
    assert.deepEqual(evidence!.identity, { emails: ['qiwan@redhat.com'], uris: [], dnsNames: ['myhost.example.com'] });
    assert.deepEqual(evidence!.signingTime, { source: 'verification-time', at: NOW });
    assert.equal(f.notAfter, evidence!.pathNotAfter, 'until the first certificate on the path expires');
    assert.ok(evidence!.pathNotAfter <= evidence!.certificateNotAfter);
    assert.ok(f.notAfter! > Date.parse('2052-01-01T00:00:00Z'));
  });
  test('ci-26 pki-valid against the Fulcio root › certificate_untrusted', () => {
    const f = verifyCosignSignature(pki, pkiSubject, withRoots(trust([]), [fulcioOnly]), NOW);
    assert.equal(f.failure?.kind, 'certificate_untrusted');
  });
  test('several roots: the one that anchors counts; the others are not reported as failures', () => {
    const f = verifyCosignSignature(fulcio, fulcioSubject, withRoots(trust([]), [privatePki, publicGood]), NOW);
    assert.equal(failure(f), 'valid');
    assert.deepEqual(f.verifiedBy, ['public-good']);
  });
  test('pki-valid: a trusted key equal to its leaf key decides before the certificate (cosign verify --key)', () => {
    const annotations = pki.annotations;
    assert.match(annotations['dev.cosignproject.cosign/signature']!, /\n/);
    const leaf = { id: 'pki-leaf', publicKey: new X509Certificate(annotations['dev.sigstore.cosign/certificate']!).publicKey };
    const f = verifyCosignSignature(pki, pkiSubject, trust([leaf]), NOW);
    assert.equal(failure(f), 'valid');
    assert.deepEqual(f.verifiedBy, ['pki-leaf']);
    assert.equal(f.certificates, undefined);
  });
});
