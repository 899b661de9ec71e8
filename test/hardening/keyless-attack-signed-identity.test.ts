// ATTACK: `signedIdentity: repository|exact` (the cosign docker-reference check, config/README.md)
// is enforced for key signatures only (evaluate.ts refuseSigner). A keyless/PKI cosign `.sig`
// signature is judged by judgeKeyless, which never reads finding.signedReference. So a keyless
// signature the release workflow made for ghcr.io/org/debug lets the same digest through as
// ghcr.io/org/app under a rule that demands the signed repository match.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { evaluateSignatures, identityReference } from '../../src/policy/evaluate.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import { verifyCosignSignature } from '../../src/verify/cosign/index.ts';
import type { TrustEntry } from '../../src/trust/types.ts';
import { makeSimpleSigningPayload, signPayload } from '../kit/cosign-sign.ts';
import { createLocalSigstore, ecKeyPair } from '../kit/sigstore-services.ts';
import { pem } from '../kit/sigstore-der.ts';
import { spkiDer } from '../kit/sigstore-pki.ts';

const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as const;
const subject = { digest, size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest };
const local = createLocalSigstore({ padEntries: 1 });
const key = ecKeyPair();
const ISSUER = 'https://oauth2.sigstore.dev/auth';
const entries: TrustEntry[] = [
  {
    id: 'pg',
    kind: 'sigstore-root',
    pem: '',
    trustedRoot: JSON.stringify(local.trustedRoot()),
    scopes: ['ghcr.io/**'],
    purposes: ['sign'],
    origin: 'file',
  },
  {
    id: 'release-key',
    kind: 'key',
    pem: pem('PUBLIC KEY', spkiDer(key.publicKey)),
    scopes: ['ghcr.io/**'],
    purposes: ['sign'],
    origin: 'file',
  },
];
const trust = compileTrust({ version: 1, entries, revocations: [] });
const rule = parsePolicy(
  `version: 1
rules:
  - name: prod
    images: ["ghcr.io/org/**"]
    signatures:
      signedIdentity: repository
      keyless: [{ root: pg, identities: [{ name: release, issuer: "${ISSUER}", subject: release@org.example }] }]
`,
  'policy.yaml',
  () => {},
).rules[0]!;
const PULLED = 'ghcr.io/org/app';
const judge = (finding: ReturnType<typeof verifyCosignSignature>) =>
  evaluateSignatures({
    rule,
    canonicalName: PULLED,
    identity: identityReference(rule, PULLED, { kind: 'tag', tag: 'v1' } as never),
    digest,
    findings: [finding],
    trust,
    now: Date.now(),
  });
const layer = (payload: Buffer, annotations: Record<string, string>) => ({
  scheme: 'cosign' as const,
  source: 'sha256-x.sig#0',
  mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
  payload,
  annotations,
});

describe('signedIdentity: repository', () => {
  const payload = makeSimpleSigningPayload(digest, 'ghcr.io/org/debug:v1');
  test('control: a key signature for ghcr.io/org/debug pulled as ghcr.io/org/app › identity_mismatch', () => {
    const f = verifyCosignSignature(
      layer(payload, { 'dev.cosignproject.cosign/signature': signPayload(key.privateKey, payload) }),
      subject,
      trust.material,
      Date.now(),
    );
    assert.deepEqual(f.verifiedBy, ['release-key']);
    const d = judge(f);
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(
      d.reasons.map((r) => r.code),
      ['identity_mismatch'],
    );
  });
  test('a keyless signature for ghcr.io/org/debug pulled as ghcr.io/org/app › must be identity_mismatch', () => {
    const s = local.cosignKeylessSignature(payload, { leaf: { email: 'release@org.example', issuer: ISSUER } });
    const f = verifyCosignSignature(layer(payload, s.annotations), subject, trust.material, Date.now());
    assert.equal(f.failure, undefined);
    assert.equal(f.signedReference, 'ghcr.io/org/debug:v1');
    const d = judge(f);
    assert.notEqual(d.outcome, 'allow', `allowed as ${d.signers.join(',')} although signed for ${f.signedReference}`);
  });
});
