// The x5c chain walk and the certificate rules, on PKIs made with openssl at test time.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { SignatureFinding, TrustMaterial } from '../../../src/verify/types.ts';
import { NOTATION_EXTENSIONS } from '../../kit/notation-pki.ts';
import type { NotationPki, NotationPkiOptions } from '../../kit/notation-pki.ts';
import { jws } from './fixtures.ts';
import { NOW, pki, sign, SUBJECT, trustRoot } from './pki.ts';

const LEAF = NOTATION_EXTENSIONS.leaf;
const ROOT = NOTATION_EXTENSIONS.root;

async function check(p: NotationPki, chainPem = p.chainPem, trust: TrustMaterial = trustRoot(p)): Promise<SignatureFinding> {
  return verifyNotationSignature(jws(sign(p, 'ES256', { chainPem })), SUBJECT, trust, NOW);
}
async function rejected(options: NotationPkiOptions, pattern: RegExp): Promise<void> {
  const f = await check(await pki(options));
  assert.equal(f.failure?.kind, 'authenticity');
  assert.match(f.failure.message, pattern);
  assert.deepEqual(f.verifiedBy, []);
  assert.ok(f.signerSubject, 'the signature itself verified, so the signer is still reported');
}
const replace = (lines: readonly string[], prefix: string, by?: string): string[] => [
  ...lines.filter((l) => !l.startsWith(prefix)),
  ...(by ? [by] : []),
];

describe('notation certificate chains', () => {
  it('leaf → intermediate → root verifies, anchored at the root', async () => {
    const p = await pki({ intermediate: true });
    const f = await check(p);
    assert.equal(f.failure, undefined, f.failure?.message);
    assert.deepEqual(f.verifiedBy, ['ca:test']);
  });

  it('a chain whose root is not in the trust store › authenticity, no chain to a trusted root', async () => {
    const [p, other] = await Promise.all([pki(), pki()]);
    const f = await check(p, p.chainPem, trustRoot(other));
    assert.equal(f.failure?.kind, 'authenticity');
    assert.match(
      f.failure.message,
      /^no chain to a trusted root: root .*CN=Notation Test Root CA \(sha256 [0-9a-f]{64}\) is not in the trust store$/,
    );
  });

  it('every trust-store entry holding the root is reported', async () => {
    const p = await pki();
    const root = new X509Certificate(p.root.certPem);
    const f = await check(p, p.chainPem, {
      keys: [],
      roots: [
        { id: 'a', certificate: root },
        { id: 'b', certificate: root },
      ],
      sigstoreRoots: [],
      tsaRoots: [],
    });
    assert.deepEqual(f.verifiedBy, ['a', 'b']);
  });

  it('the root in the store but the chain out of order (leaf, root, intermediate) › authenticity', async () => {
    const p = await pki({ intermediate: true });
    const f = await check(p, [p.chainPem[0]!, p.chainPem[2]!, p.chainPem[1]!]);
    assert.equal(f.failure?.kind, 'authenticity');
    assert.match(f.failure.message, /x5c\[0\] .* is not issued by x5c\[1\] .*the chain must be ordered leaf → intermediates → root/);
  });

  it('a chain that stops at the intermediate (root omitted, though trusted) › authenticity', async () => {
    const p = await pki({ intermediate: true });
    const f = await check(p, p.chainPem.slice(0, 2));
    assert.equal(f.failure?.kind, 'authenticity');
    assert.match(f.failure.message, /no chain to a trusted root: the chain ends with .*Intermediate CA, which is not a self-signed root/);
  });

  it('an unrelated certificate inside the chain › authenticity', async () => {
    const [p, other] = await Promise.all([pki({ intermediate: true }), pki({ intermediate: true })]);
    const f = await check(p, [p.chainPem[0]!, other.chainPem[1]!, p.chainPem[2]!]);
    assert.equal(f.failure?.kind, 'authenticity');
    assert.match(f.failure.message, /is not issued by/);
  });

  it('a single self-signed signing certificate in the store follows the leaf rules and verifies', async () => {
    // signature-specification.md "Other requirements" 1.
    const p = await pki({
      root: { extensions: ['basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = codeSigning'] },
    });
    const self = { ...p, leaf: p.root, chainPem: [p.root.certPem] };
    const f = await verifyNotationSignature(jws(sign(self, 'ES256')), SUBJECT, trustRoot(p), NOW);
    assert.equal(f.failure, undefined, f.failure?.message);
  });
});

describe('notation certificate rules › authenticity', () => {
  it('a leaf with the serverAuth EKU', () =>
    rejected(
      { leaf: { extensions: replace(LEAF, 'extendedKeyUsage', 'extendedKeyUsage = codeSigning,serverAuth') } },
      /extendedKeyUsage must not include serverAuth/,
    ));
  it('a leaf with anyExtendedKeyUsage', () =>
    rejected(
      { leaf: { extensions: replace(LEAF, 'extendedKeyUsage', 'extendedKeyUsage = anyExtendedKeyUsage') } },
      /must not include anyExtendedKeyUsage/,
    ));
  it('a leaf whose keyUsage is not critical', () =>
    rejected(
      { leaf: { extensions: replace(LEAF, 'keyUsage', 'keyUsage = digitalSignature') } },
      /signing certificate's keyUsage must be critical/,
    ));
  it('a leaf without keyUsage', () => rejected({ leaf: { extensions: replace(LEAF, 'keyUsage') } }, /must have a keyUsage extension/));
  it('a leaf with keyEncipherment and keyCertSign', () =>
    rejected(
      { leaf: { extensions: replace(LEAF, 'keyUsage', 'keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign') } },
      /must not include keyEncipherment, keyCertSign/,
    ));
  it('a leaf whose keyUsage lacks digitalSignature', () =>
    rejected({ leaf: { extensions: replace(LEAF, 'keyUsage', 'keyUsage = critical,nonRepudiation') } }, /must include digitalSignature/));
  it('a leaf that is a CA', () =>
    rejected({ leaf: { extensions: replace(LEAF, 'basicConstraints', 'basicConstraints = critical,CA:TRUE') } }, /must not be a CA/));
  it('a CA without cA=true', () =>
    rejected(
      { root: { extensions: replace(ROOT, 'basicConstraints', 'basicConstraints = critical,CA:FALSE') } },
      /x5c\[1\] .*must have basicConstraints cA=true/,
    ));
  it('a CA whose basicConstraints is not critical', () =>
    rejected(
      { root: { extensions: replace(ROOT, 'basicConstraints', 'basicConstraints = CA:TRUE') } },
      /basicConstraints must be critical/,
    ));
  it('a CA whose keyUsage lacks keyCertSign', () =>
    rejected(
      {
        intermediate: { extensions: replace(NOTATION_EXTENSIONS.intermediate, 'keyUsage', 'keyUsage = critical,cRLSign,digitalSignature') },
      },
      /issuer's keyUsage \(keyCertSign\) do not match/,
    ));
  it('a CA whose keyUsage is not critical', () =>
    rejected(
      { root: { extensions: replace(ROOT, 'keyUsage', 'keyUsage = keyCertSign,cRLSign') } },
      /x5c\[1\] .*a CA certificate's keyUsage must be critical/,
    ));
  it('a root with pathlen:0 above an intermediate', () =>
    rejected(
      { root: { extensions: replace(ROOT, 'basicConstraints', 'basicConstraints = critical,CA:TRUE,pathlen:0') }, intermediate: true },
      /pathLenConstraint 0 allows 0 intermediate\(s\) below it, but the chain has 1/,
    ));
  it('a leaf signed with SHA-1', () => rejected({ leaf: { digest: 'sha1' } }, /signed with ecdsa-with-SHA1/));
  it('an RSA 1024 root', () => rejected({ root: { key: 'rsa-1024' } }, /x5c\[1\] .*RSA 1024-bit key; at least 2048 bits/));
  it('a P-224 intermediate', () => rejected({ intermediate: { key: 'ec-p224' } }, /x5c\[1\] .*224-bit curve/));
});
