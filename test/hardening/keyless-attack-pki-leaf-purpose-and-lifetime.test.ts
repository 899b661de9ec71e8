// ATTACKS on bring-your-own-PKI certificate signatures (docs/keyless.md "Trust roots", "Verification" 1).
// 1. The leaf's purpose is never checked: a TLS server certificate (extKeyUsage serverAuth, no
//    codeSigning), or any leaf under an issuing CA restricted to serverAuth, counts as an image signer.
//    cosign (ValidateAndUnpackCert: KeyUsages codeSigning) and Go's x509 EKU nesting refuse both.
// 2. "Checked at evaluation time ... counts only until the certificate expires": the verdict's
//    notAfter is the LEAF's notAfter only. When the issuing CA expires first, the allow outlives
//    the chain: a fresh verification just after the CA's expiry denies, the cached verdict allows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateSignatures } from '../../src/policy/evaluate.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import { verifyCosignSignature } from '../../src/verify/cosign/index.ts';
import type { SignatureFinding, TrustMaterial } from '../../src/verify/types.ts';
import { makeSimpleSigningPayload } from '../kit/cosign-sign.ts';
import { oid, printable, seq, setOf } from '../kit/sigstore-der.ts';
import {
  ecKeyPair,
  ext,
  issueCertificate,
  makeIntermediateCa,
  makeRootCa,
  OIDS,
  type Authority,
  type Certificate,
  type KeyPair,
} from '../kit/sigstore-pki.ts';
import { createLocalSigstore } from '../kit/sigstore-services.ts';
import { createHash } from 'node:crypto';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const NOW = Date.parse('2026-12-04T00:00:00Z');
const NAME = 'ghcr.io/corp/app';
const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as const;
const subject = { digest, size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest };
const local = createLocalSigstore({ padEntries: 1 });

function leafFrom(
  ca: Authority,
  purposes: readonly string[] | undefined,
  notAfter = new Date('2039-01-01T00:00:00Z'),
): { leaf: Certificate; key: KeyPair } {
  const key = ecKeyPair();
  const leaf = issueCertificate(ca, {
    subject: seq(setOf(seq(oid(OIDS.commonName), printable('www.corp.example')))),
    publicKey: key.publicKey,
    notBefore: new Date('2021-01-01T00:00:00Z'),
    notAfter,
    extensions: [
      ext.keyUsage([0]),
      ...(purposes === undefined ? [] : [ext.extKeyUsage(purposes)]),
      ext.basicConstraints(false),
      ext.subjectKeyId(key.publicKey),
      ext.authorityKeyId(ca.key.publicKey),
      ext.subjectAltName({ dns: 'www.corp.example' }, false),
    ],
  });
  return { leaf, key };
}

function setup(rootCa: Authority, issuing: Authority) {
  const entries = [
    {
      id: 'corp',
      kind: 'sigstore-root' as const,
      pem: rootCa.cert.pem + issuing.cert.pem,
      scopes: ['ghcr.io/**'],
      purposes: ['sign' as const],
      origin: 'file' as const,
    },
  ];
  const compiled = compileTrust({ version: 1, entries, revocations: [] });
  assert.deepEqual(compiled.broken, []);
  const material: TrustMaterial = compiled.material;
  const rule = parsePolicy(
    `version: 1
rules:
  - name: corp
    images: ["ghcr.io/corp/**"]
    signatures:
      keyless:
        - root: corp
          transparencyLog: off
          identities: [{ name: build, subject: www.corp.example }]
`,
    'policy.yaml',
    () => {},
  ).rules[0]!;
  const judge = (finding: SignatureFinding, now = NOW) =>
    evaluateSignatures({ rule, canonicalName: NAME, identity: undefined, digest, findings: [finding], trust: compiled, now });
  return { material, judge };
}

function sign(leaf: Certificate, key: KeyPair, rootCa: Authority, issuing: Authority) {
  const payload = makeSimpleSigningPayload(digest, `${NAME}:v1`);
  const byo = { root: rootCa, intermediate: issuing, leaf, leafKey: key, chainPem: leaf.pem + issuing.cert.pem + rootCa.cert.pem };
  const s = local.cosignKeylessSignature(payload, { byo, tlog: false });
  return {
    scheme: 'cosign' as const,
    source: 'sha256-x.sig#0',
    mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
    payload,
    annotations: s.annotations,
  };
}

describe('BYO PKI: the leaf purpose is not checked', () => {
  const rootCa = makeRootCa({ organization: 'corp', commonName: 'Corp Root', pathLen: 1 });
  const issuing = makeIntermediateCa(rootCa, { organization: 'corp', commonName: 'Corp Issuing CA' });
  const { material, judge } = setup(rootCa, issuing);

  test('control: a codeSigning leaf counts', () => {
    const { leaf, key } = leafFrom(issuing, [OIDS.codeSigning]);
    const d = judge(verifyCosignSignature(sign(leaf, key, rootCa, issuing), subject, material, NOW));
    assert.equal(d.outcome, 'allow', JSON.stringify(d.reasons));
  });
  test('a TLS server certificate (extKeyUsage serverAuth only) must not sign images', () => {
    const { leaf, key } = leafFrom(issuing, [SERVER_AUTH]);
    const finding = verifyCosignSignature(sign(leaf, key, rootCa, issuing), subject, material, NOW);
    const d = judge(finding);
    assert.notEqual(d.outcome, 'allow', `a serverAuth-only certificate was counted as signer ${d.signers.join(',')}`);
  });
});

describe('BYO PKI: an issuing CA restricted to serverAuth', () => {
  const rootCa = makeRootCa({ organization: 'corp', commonName: 'Corp Root', pathLen: 1 });
  const tlsCa = makeIntermediateCa(rootCa, { organization: 'corp', commonName: 'Corp TLS CA', extKeyUsage: [SERVER_AUTH] });
  const { material, judge } = setup(rootCa, tlsCa);
  test('its codeSigning leaf must not count (EKU nesting, as Go x509 / cosign)', () => {
    const { leaf, key } = leafFrom(tlsCa, [OIDS.codeSigning]);
    const d = judge(verifyCosignSignature(sign(leaf, key, rootCa, tlsCa), subject, material, NOW));
    assert.notEqual(d.outcome, 'allow', `a leaf under a serverAuth-only CA was counted as ${d.signers.join(',')}`);
  });
});

describe('BYO PKI at evaluation time: the verdict outlives an issuing CA that expires before the leaf', () => {
  const caEnd = new Date('2027-01-01T00:00:00Z');
  const rootCa = makeRootCa({ organization: 'corp', commonName: 'Corp Root', pathLen: 1 });
  const issuing = makeIntermediateCa(rootCa, { organization: 'corp', commonName: 'Corp Issuing CA', notAfter: caEnd });
  const { material, judge } = setup(rootCa, issuing);
  const { leaf, key } = leafFrom(issuing, [OIDS.codeSigning], new Date('2030-01-01T00:00:00Z'));
  const sig = sign(leaf, key, rootCa, issuing);

  test('the allow must end when the chain stops being valid', () => {
    const d = judge(verifyCosignSignature(sig, subject, material, NOW));
    assert.equal(d.outcome, 'allow', JSON.stringify(d.reasons));
    const after = caEnd.getTime() + 1000;
    const fresh = verifyCosignSignature(sig, subject, material, after);
    assert.equal(fresh.failure?.kind, 'certificate_untrusted', 'a fresh verification after the CA expired fails');
    assert.ok(
      d.notAfter !== undefined && d.notAfter <= caEnd.getTime(),
      `decision.notAfter ${d.notAfter === undefined ? 'undefined' : new Date(d.notAfter).toISOString()} is after the issuing CA's notAfter ${caEnd.toISOString()}`,
    );
  });
});
