// A registry writes the `dev.sigstore.cosign/certificate` annotation, and it is read before any key
// or certificate check. A lazy regular expression over a run of BEGIN lines with no END was
// quadratic (1 MiB: ~10 s of blocked event loop). PEM blocks are now read in one linear pass
// (src/input/pem-blocks.ts). No timing here: the inputs are sized so that a quadratic reader would
// not finish within the test runner's timeout, and a linear one finishes at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { pemBlocks } from '../../src/input/pem-blocks.ts';
import { verifyCosignSignature } from '../../src/verify/cosign/index.ts';
import type { TrustMaterial } from '../../src/verify/types.ts';

const manifest = Buffer.from('{"schemaVersion":2}');
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as const;
const subject = { digest, size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest };
const trust: TrustMaterial = { keys: [], roots: [], sigstoreRoots: [], tsaRoots: [] };
/** 16 MiB of BEGIN lines: ~10^13 steps for a quadratic reader. */
const BOMB = '-----BEGIN CERTIFICATE-----'.repeat(Math.floor((16 * 1_048_576) / 27));

describe('PEM blocks from hostile text', () => {
  test('a certificate annotation of BEGIN lines with no END › a format finding', () => {
    const sig = {
      scheme: 'cosign' as const,
      source: 'sha256-x.sig#0',
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      payload: Buffer.from('{}'),
      annotations: { 'dev.cosignproject.cosign/signature': 'AAAA', 'dev.sigstore.cosign/certificate': BOMB },
    };
    const f = verifyCosignSignature(sig, subject, trust, Date.now());
    assert.equal(f.failure?.kind, 'format');
    assert.equal(f.failure?.message, 'dev.sigstore.cosign/certificate must hold exactly one PEM certificate');
  });
  test('many labels without an END each, then one real block › the real block alone', () => {
    const labels = Array.from({ length: 2_000 }, (_, i) => `-----BEGIN CERTIFICATE-----junk${i}`).join('');
    const real = '-----BEGIN PUBLIC KEY-----\nQUJD\nREVG\n-----END PUBLIC KEY-----';
    assert.deepEqual(pemBlocks(`${BOMB}${labels}${real}`, ['CERTIFICATE', 'PUBLIC KEY']), [
      { label: 'PUBLIC KEY', base64: 'QUJDREVG', text: real },
    ]);
  });
  test('blocks in order, text around them ignored, other labels skipped, an END of another label does not close one', () => {
    const a = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----';
    const b = '-----BEGIN CERTIFICATE-----\nBB==\n-----END CERTIFICATE-----';
    const text = `x ${a}\n-----BEGIN PRIVATE KEY-----\nZZ\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nCC==\n-----END PUBLIC KEY-----\n y ${b}`;
    assert.deepEqual(
      pemBlocks(text, ['CERTIFICATE']).map((block) => block.base64),
      ['AA==', 'CC==-----ENDPUBLICKEY-----y-----BEGINCERTIFICATE-----BB=='],
    );
  });
});
