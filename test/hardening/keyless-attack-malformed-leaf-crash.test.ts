// ATTACK: a certificate that parses as ASN.1 but is not an X.509 certificate makes
// verifyCertificateBundle throw a TypeError (not a `format` finding). verify() in
// src/gate/judge-pull.ts runs Promise.all over every referrer, so one such referrer (or one
// such `.sig` layer) rejects the whole verification of an otherwise validly signed image.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { verifySigstoreBundle, verifyCosignSignature } from '../../src/verify/cosign/index.ts';
import { compileSigstoreRoot } from '../../src/trust/sigstore-root.ts';
import type { Subject, TrustMaterial } from '../../src/verify/types.ts';
import { createLocalSigstore } from '../kit/sigstore-services.ts';
import { int, seq } from '../kit/sigstore-der.ts';

const local = createLocalSigstore({ padEntries: 2 });
const root = compileSigstoreRoot({
  id: 'local',
  kind: 'sigstore-root',
  pem: '',
  trustedRoot: JSON.stringify(local.trustedRoot()),
  scopes: ['**'],
  purposes: ['sign'],
  origin: 'file',
});
const trust: TrustMaterial = { keys: [], roots: [], sigstoreRoots: [root], tsaRoots: [] };
const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as const;
const subject: Subject = { digest, size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest };
// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { INTEGER 1 } } : no subjectPublicKeyInfo, no issuer.
const bogus = seq(seq(int(1)));

describe('a malformed leaf certificate', () => {
  test('in a v0.3 bundle referrer › a `format` finding, not an exception', () => {
    const bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { certificate: { rawBytes: bogus.toString('base64') }, tlogEntries: [] },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(manifest).digest('base64') },
        signature: Buffer.from('sig').toString('base64'),
      },
    };
    const run = () =>
      verifySigstoreBundle(
        { scheme: 'sigstore-bundle', source: 'referrer#0', bundle: Buffer.from(JSON.stringify(bundle)) } as never,
        subject,
        trust,
        Date.now(),
      );
    let finding;
    assert.doesNotThrow(() => {
      finding = run();
    }, 'verifySigstoreBundle threw instead of returning a failure finding');
    assert.equal((finding as { failure?: { kind: string } } | undefined)?.failure?.kind, 'format');
  });
  test('in a cosign .sig layer certificate annotation › a failure finding, not an exception', () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${bogus.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const sig = {
      scheme: 'cosign',
      source: 'sha256-x.sig#0',
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      payload: Buffer.from('{}'),
      annotations: { 'dev.cosignproject.cosign/signature': Buffer.from('sig').toString('base64'), 'dev.sigstore.cosign/certificate': pem },
    };
    assert.doesNotThrow(() => verifyCosignSignature(sig as never, subject, trust, Date.now()));
  });
  test('a valid keyless .sig layer whose chain annotation adds one junk block (INTEGER 1) › still judged, not an exception', () => {
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
    const signed = local.cosignKeylessSignature(payload);
    const junk = `-----BEGIN CERTIFICATE-----\n${int(1).toString('base64')}\n-----END CERTIFICATE-----\n`;
    const sig = {
      scheme: 'cosign',
      source: 'sha256-x.sig#0',
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      payload,
      annotations: { ...signed.annotations, 'dev.sigstore.cosign/chain': signed.annotations['dev.sigstore.cosign/chain']! + junk },
    };
    const clean = verifyCosignSignature({ ...sig, annotations: signed.annotations } as never, subject, trust, Date.now());
    assert.equal(clean.failure, undefined, 'control: the untouched signature verifies');
    assert.doesNotThrow(() => verifyCosignSignature(sig as never, subject, trust, Date.now()));
  });
});
