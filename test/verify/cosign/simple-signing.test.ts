// verifyCosignSignature with keys made at test time, signed by the independent test signer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { verifyCosignSignature } from '../../../src/verify/cosign/index.ts';
import type { CosignSignature, SignatureFailure, SignatureFinding, TrustedKey } from '../../../src/verify/types.ts';
import { makeSimpleSigningPayload, signPayload } from '../../kit/index.ts';
import type { SignOptions } from '../../kit/index.ts';
import { subjectOf, trust } from './fixtures.ts';
import { ACCEPTED, REJECTED, keys } from './keys.ts';
import type { Pair } from './keys.ts';

const subject = subjectOf(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'));
const other = subjectOf(Buffer.from('{"schemaVersion":2}'));
const REF = 'registry.example/team/app:v1';
const SIG = 'dev.cosignproject.cosign/signature';
const MT = 'application/vnd.dev.cosign.simplesigning.v1+json';
const trusted = (id: string, pair: Pair): TrustedKey => ({ id, publicKey: pair.publicKey });

function signed(
  pair: Pair,
  payload = makeSimpleSigningPayload(subject.digest, REF),
  options: SignOptions = {},
  annotations: Record<string, string> = {},
): CosignSignature {
  return {
    scheme: 'cosign',
    source: 'sha256-x.sig#0',
    mediaType: MT,
    payload,
    annotations: { [SIG]: signPayload(pair.privateKey, payload, options), ...annotations },
  };
}
const kindOf = (f: SignatureFinding): SignatureFailure | 'valid' => f.failure?.kind ?? 'valid';

describe('verifyCosignSignature: keys', () => {
  for (const [name, pair, options] of ACCEPTED) {
    test(`${name} › valid, signedReference set`, () => {
      const f = verifyCosignSignature(signed(pair, undefined, options), subject, trust([trusted('k', pair)]), Date.now());
      assert.deepEqual(f, { scheme: 'cosign', source: 'sha256-x.sig#0', verifiedBy: ['k'], signedReference: REF });
    });
  }
  for (const [name, pair, options] of REJECTED) {
    test(`${name} › crypto`, () =>
      assert.equal(
        kindOf(verifyCosignSignature(signed(pair, undefined, options), subject, trust([trusted('k', pair)]), Date.now())),
        'crypto',
      ));
  }
  test('Ed25519ph (cosign ≥ 2.6 default) › unsupported_algorithm, named in the message', () => {
    const f = verifyCosignSignature(
      signed(keys.ed25519, undefined, { ed25519ph: true }),
      subject,
      trust([trusted('p', keys.p256), trusted('ed', keys.ed25519)]),
      Date.now(),
    );
    assert.equal(kindOf(f), 'unsupported_algorithm');
    assert.match(f.failure!.message, /Ed25519ph/);
    assert.deepEqual(f.verifiedBy, []);
  });
  test('Ed25519ph with only an unrelated Ed25519 key trusted › crypto', () => {
    assert.equal(
      kindOf(
        verifyCosignSignature(
          signed(keys.ed25519, undefined, { ed25519ph: true }),
          subject,
          trust([trusted('o', keys.otherEd25519)]),
          Date.now(),
        ),
      ),
      'crypto',
    );
  });
  test('every trusted key that verifies is listed, in trust-store order', () => {
    const f = verifyCosignSignature(
      signed(keys.p256),
      subject,
      trust([trusted('a', keys.p256), trusted('x', keys.rsa), trusted('b', keys.p256)]),
      Date.now(),
    );
    assert.deepEqual(f.verifiedBy, ['a', 'b']);
  });
  test('no trusted keys › crypto', () =>
    assert.equal(kindOf(verifyCosignSignature(signed(keys.p256), subject, trust([]), Date.now())), 'crypto'));
  test('a certificate annotation that is not one PEM certificate › format; a trusted key never gets that far', () => {
    const sig = signed(keys.p256, undefined, {}, { 'dev.sigstore.cosign/certificate': '-----BEGIN CERTIFICATE-----\n…' });
    const f = verifyCosignSignature(sig, subject, trust([trusted('o', keys.otherP256)]), Date.now());
    assert.equal(kindOf(f), 'format');
    assert.equal(f.failure!.message, 'dev.sigstore.cosign/certificate must hold exactly one PEM certificate');
  });
  test('a certificate annotation on an Ed25519ph signature › format before the algorithm', () => {
    const sig = signed(keys.ed25519, undefined, { ed25519ph: true }, { 'dev.sigstore.cosign/certificate': 'x' });
    assert.equal(kindOf(verifyCosignSignature(sig, subject, trust([trusted('ed', keys.ed25519)]), Date.now())), 'format');
  });
  test('signed for another manifest › digest, verifiedBy kept, short message', () => {
    const f = verifyCosignSignature(signed(keys.p256), other, trust([trusted('k', keys.p256)]), Date.now());
    assert.equal(kindOf(f), 'digest');
    assert.deepEqual(f.verifiedBy, ['k']);
    assert.equal(f.signedReference, REF);
    assert.equal(f.failure!.message, `signed for ${subject.digest.slice(0, 19)}… not ${other.digest.slice(0, 19)}…`);
  });
});

describe('verifyCosignSignature: payload rules (parsed only after the signature verifies)', () => {
  const run = (payload: Buffer | string): SignatureFinding =>
    verifyCosignSignature(signed(keys.p256, Buffer.from(payload)), subject, trust([trusted('k', keys.p256)]), Date.now());
  const payloadOf = (critical: unknown, rest: Record<string, unknown> = {}): string => JSON.stringify({ critical, ...rest });
  const image = { 'docker-manifest-digest': subject.digest };
  const type = 'cosign container image signature';

  test('docker-manifest-digest is looked up case-insensitively, like Go', () => {
    assert.equal(kindOf(run(payloadOf({ type, image: { 'Docker-manifest-digest': subject.digest } }))), 'valid');
    assert.equal(kindOf(run(payloadOf({ Type: type, IMAGE: { 'DOCKER-MANIFEST-DIGEST': subject.digest } }))), 'valid');
    assert.equal(kindOf(run(payloadOf({ type, image: { 'docker-manifeſt-digeſt': subject.digest } }))), 'valid'); // Go EqualFold: ſ ~ s
  });
  test('identity is optional; optional may be null or an object', () => {
    const f = run(payloadOf({ type, image }, { optional: null }));
    assert.equal(kindOf(f), 'valid');
    assert.equal(f.signedReference, undefined);
    assert.equal(kindOf(run(payloadOf({ type, image, identity: { 'docker-reference': 'a/b' } }, { optional: { creator: 'x' } }))), 'valid');
  });
  const formats: Array<[string, Buffer | string]> = [
    ['payload null', 'null'],
    ['payload a string', '"cosign container image signature"'],
    ['payload an array', '[]'],
    ['invalid JSON', '{"critical":'],
    ['empty payload', ''],
    ['missing critical', JSON.stringify({ optional: null })],
    ['critical null', payloadOf(null)],
    ['critical an array', payloadOf([])],
    ['wrong type', payloadOf({ type: 'atomic container signature', image })],
    ['type not exact (trailing space)', payloadOf({ type: `${type} `, image })],
    ['type a number', payloadOf({ type: 1, image })],
    ['missing image', payloadOf({ type })],
    ['digest a number', payloadOf({ type, image: { 'docker-manifest-digest': 5 } })],
    ['empty digest', payloadOf({ type, image: { 'docker-manifest-digest': '' } })],
    ['two case-variant digests that differ', payloadOf({ type, image: { ...image, 'Docker-Manifest-Digest': other.digest } })],
    ['docker-reference a number', payloadOf({ type, image, identity: { 'docker-reference': 7 } })],
    ['optional a string', payloadOf({ type, image }, { optional: 'x' })],
    ['not UTF-8 JSON', randomBytes(300)],
  ];
  for (const [name, payload] of formats)
    test(`${name} › format, verifiedBy kept`, () => {
      const f = run(payload);
      assert.equal(kindOf(f), 'format', f.failure?.message);
      assert.deepEqual(f.verifiedBy, ['k']);
    });
  test('a huge signed payload (8 MiB of JSON) › digest, no throw', () => {
    const big = payloadOf({ type, image: { 'docker-manifest-digest': other.digest } }, { optional: { pad: 'x'.repeat(8 << 20) } });
    assert.equal(kindOf(run(big)), 'digest');
  });
  test('deeply nested JSON › format, no throw', () => {
    assert.equal(kindOf(run(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)), 'format');
  });
});

describe('verifyCosignSignature: layer shape', () => {
  const base = signed(keys.p256);
  const rsa = signed(keys.rsa);
  const t = trust([trusted('k', keys.p256), trusted('r', keys.rsa)]);
  const cases: Array<[string, CosignSignature]> = [
    ['text/plain layer', { ...base, mediaType: 'text/plain' }],
    ['DSSE layer (an attestation)', { ...base, mediaType: 'application/vnd.dsse.envelope.v1+json' }],
    ['no signature annotation', { ...base, annotations: {} }],
    ['empty signature annotation (attestation style)', { ...base, annotations: { [SIG]: '' } }],
    ['garbage base64', { ...base, annotations: { [SIG]: '!!not base64!!' } }],
    [
      'base64 with a space',
      { ...base, annotations: { [SIG]: `${base.annotations[SIG]!.slice(0, 8)} ${base.annotations[SIG]!.slice(8)}` } },
    ],
    ['unpadded base64 (RSA-2048: 256 bytes need one =)', { ...rsa, annotations: { [SIG]: rsa.annotations[SIG]!.replace(/=+$/, '') } }],
    ['URL-safe base64 (not Go StdEncoding)', { ...base, annotations: { [SIG]: '-_-_' } }],
    ['only padding', { ...base, annotations: { [SIG]: '====' } }],
  ];
  for (const [name, sig] of cases)
    test(`${name} › format`, () => assert.equal(kindOf(verifyCosignSignature(sig, subject, t, Date.now())), 'format'));
  test('signature base64 wrapped with CRLF every 76 characters › valid (Go skips \\r\\n)', () => {
    const long = signed(keys.rsa);
    const wrapped = long.annotations[SIG]!.replace(/(.{76})/g, '$1\r\n');
    assert.notEqual(wrapped, long.annotations[SIG]);
    assert.equal(
      kindOf(verifyCosignSignature({ ...long, annotations: { [SIG]: wrapped } }, subject, trust([trusted('r', keys.rsa)]), Date.now())),
      'valid',
    );
  });
  test('a huge random (valid base64) annotation › crypto, no throw', () => {
    const junk = randomBytes(3 << 20).toString('base64');
    assert.equal(kindOf(verifyCosignSignature({ ...base, annotations: { [SIG]: junk } }, subject, t, Date.now())), 'crypto');
  });
});
