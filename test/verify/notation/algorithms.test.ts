// Envelopes signed at test time by the kit's independent signer: algorithms, signatures, targets.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { NotationPki } from '../../kit/notation-pki.ts';
import { jws } from './fixtures.ts';
import { NOW, pki, sign, SUBJECT, trustRoot } from './pki.ts';

describe('notation algorithms and integrity', () => {
  let ec256: NotationPki, ec384: NotationPki, rsa2048: NotationPki;
  before(async () => {
    [ec256, ec384, rsa2048] = await Promise.all([
      pki({ leaf: { key: 'ec-p256' } }),
      pki({ root: { key: 'ec-p384' }, leaf: { key: 'ec-p384' } }),
      pki({ root: { key: 'rsa-2048' }, leaf: { key: 'rsa-2048' } }),
    ]);
  });

  for (const [name, alg, get] of [
    ['EC P-256', 'ES256', () => ec256],
    ['EC P-384', 'ES384', () => ec384],
    ['RSA 2048', 'PS256', () => rsa2048],
  ] as const) {
    it(`a ${name} leaf signing ${alg} verifies, anchored at the root, with the leaf subject`, async () => {
      const p = get();
      const f = await verifyNotationSignature(jws(sign(p, alg)), SUBJECT, trustRoot(p), NOW);
      assert.equal(f.failure, undefined, f.failure?.message);
      assert.deepEqual(f.verifiedBy, ['ca:test']);
      assert.deepEqual(f.signerSubject, { C: 'US', ST: 'WA', L: 'Seattle', O: 'trustgate-test', CN: 'Notation Test Signer' });
    });
  }

  it('an ES512 leaf (P-521) verifies', async () => {
    const p = await pki({ leaf: { key: 'ec-p521' } });
    assert.equal((await verifyNotationSignature(jws(sign(p, 'ES512')), SUBJECT, trustRoot(p), NOW)).failure, undefined);
  });

  it('when alg does not match the leaf key (RSA 2048 signing PS384) › integrity naming both', async () => {
    const f = await verifyNotationSignature(jws(sign(rsa2048, 'PS384')), SUBJECT, trustRoot(rsa2048), NOW);
    assert.equal(f.failure?.kind, 'integrity');
    assert.match(f.failure.message, /alg PS384 does not match the signing certificate's RSA 2048 key \(PS256\)/);
  });

  it('when a P-384 key signs ES256 › integrity', async () => {
    const f = await verifyNotationSignature(jws(sign(ec384, 'ES256')), SUBJECT, trustRoot(ec384), NOW);
    assert.equal(f.failure?.kind, 'integrity');
    assert.match(f.failure.message, /EC P-384 key \(ES384\)/);
  });

  it('when alg is RS256, none or HS256 › integrity', async () => {
    for (const alg of ['RS256', 'none', 'HS256']) {
      const f = await verifyNotationSignature(jws(sign(ec256, 'ES256', { extraProtected: { alg } })), SUBJECT, trustRoot(ec256), NOW);
      assert.equal(f.failure?.kind, 'integrity', alg);
      assert.match(f.failure.message, /is not a Notary Project algorithm/);
    }
  });

  it('when the signature bytes are changed › integrity', async () => {
    const env = JSON.parse(sign(ec256, 'ES256').toString('utf8')) as Record<string, string>;
    const sig = Buffer.from(env.signature!, 'base64url');
    sig[5]! ^= 1;
    const f = await verifyNotationSignature(
      jws(Buffer.from(JSON.stringify({ ...env, signature: sig.toString('base64url') }))),
      SUBJECT,
      trustRoot(ec256),
      NOW,
    );
    assert.equal(f.failure?.kind, 'integrity');
    assert.match(f.failure.message, /signature does not verify/);
    assert.deepEqual(f.verifiedBy, []);
  });

  it('when the payload is swapped for another signed one › integrity', async () => {
    const a = JSON.parse(sign(ec256, 'ES256').toString('utf8')) as Record<string, string>;
    const b = JSON.parse(sign(ec256, 'ES256', { subject: { ...SUBJECT, size: 1 } }).toString('utf8')) as Record<string, string>;
    const f = await verifyNotationSignature(jws(Buffer.from(JSON.stringify({ ...a, payload: b.payload }))), SUBJECT, trustRoot(ec256), NOW);
    assert.equal(f.failure?.kind, 'integrity');
  });

  it('when the leaf was signed by the key of another certificate in x5c (x5c[0] swapped) › integrity', async () => {
    const other = await pki({ leaf: { key: 'ec-p256' } });
    const f = await verifyNotationSignature(jws(sign(ec256, 'ES256', { chainPem: other.chainPem })), SUBJECT, trustRoot(other), NOW);
    assert.equal(f.failure?.kind, 'integrity');
  });

  describe('the signed target against the served manifest', () => {
    it('another digest › digest, with the anchoring root still reported', async () => {
      const f = await verifyNotationSignature(
        jws(sign(ec256, 'ES256')),
        { ...SUBJECT, digest: `sha256:${'cd'.repeat(32)}` },
        trustRoot(ec256),
        NOW,
      );
      assert.equal(f.failure?.kind, 'digest');
      assert.deepEqual(f.verifiedBy, ['ca:test']);
    });
    it('same digest, another size › integrity', async () => {
      const f = await verifyNotationSignature(jws(sign(ec256, 'ES256')), { ...SUBJECT, size: 99 }, trustRoot(ec256), NOW);
      assert.equal(f.failure?.kind, 'integrity');
      assert.match(f.failure.message, /size 1234 differs from the manifest's 99 bytes/);
    });
    it('same digest, another media type › integrity', async () => {
      const f = await verifyNotationSignature(
        jws(sign(ec256, 'ES256')),
        { ...SUBJECT, mediaType: 'application/vnd.oci.image.index.v1+json' },
        trustRoot(ec256),
        NOW,
      );
      assert.equal(f.failure?.kind, 'integrity');
      assert.match(f.failure.message, /mediaType/);
    });
    it('a signed targetArtifact with empty fields › integrity', async () => {
      const f = await verifyNotationSignature(
        jws(sign(ec256, 'ES256', { subject: { digest: '', size: -1, mediaType: '' } })),
        SUBJECT,
        trustRoot(ec256),
        NOW,
      );
      assert.equal(f.failure?.kind, 'integrity');
      assert.match(f.failure.message, /targetArtifact/);
    });
  });
});
