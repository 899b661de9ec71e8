// ATTACK: threshold counts (root, identity) names, not signatures or certificates. One keyless
// signature by one person meets `threshold: 2` when
//   (a) the same identities are listed under two roots that both anchor its certificate (a root
//       migration: the pinned trusted_root.json and its TUF-refreshed copy, or old and new roots
//       that both list the current Fulcio CA), or
//   (b) two identities of one root overlap (an exact workflow and an org-wide RegExp).
// Expected: one certificate (one signature) is one signer toward the threshold, as "One workflow
// signing twice is one signer" (docs/keyless.md "Policy") implies; a second person must sign.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { evaluateSignatures } from '../../src/policy/evaluate.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import { verifySigstoreBundle } from '../../src/verify/cosign/index.ts';
import type { TrustEntry } from '../../src/trust/types.ts';
import { createLocalSigstore } from '../kit/sigstore-services.ts';

const NAME = 'ghcr.io/org/app';
const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}` as const;
const subject = { digest, size: manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest };
const local = createLocalSigstore({ padEntries: 1 });
const json = JSON.stringify(local.trustedRoot());
const entry = (id: string): TrustEntry => ({
  id,
  kind: 'sigstore-root',
  pem: '',
  trustedRoot: json,
  scopes: ['ghcr.io/**'],
  purposes: ['sign'],
  origin: 'file',
});
const trust = compileTrust({ version: 1, entries: [entry('pg'), entry('pg-tuf')], revocations: [] });
const ISSUER = 'https://oauth2.sigstore.dev/auth';
const policy = parsePolicy(
  `version: 1
rules:
  - name: two-people-two-roots
    images: ["ghcr.io/org/**"]
    signatures:
      threshold: 2
      keyless:
        - root: pg
          identities: [{ name: alice, issuer: "${ISSUER}", subject: alice@org.example }, { name: bob, issuer: "${ISSUER}", subject: bob@org.example }]
        - root: pg-tuf
          identities: [{ name: alice, issuer: "${ISSUER}", subject: alice@org.example }, { name: bob, issuer: "${ISSUER}", subject: bob@org.example }]
  - name: overlap
    images: ["ghcr.io/overlap/**"]
    signatures:
      threshold: 2
      keyless:
        - root: pg
          identities:
            - { name: release, issuer: "${ISSUER}", subject: alice@org.example }
            - { name: security, issuer: "${ISSUER}", subjectRegExp: '^.*@org\\.example$' }
`,
  'policy.yaml',
  () => {},
);

const bundleBy = (email: string) =>
  verifySigstoreBundle(
    {
      scheme: 'sigstore-bundle',
      source: 'referrer#0',
      bundle: Buffer.from(JSON.stringify(local.keylessMessageBundle(manifest, { leaf: { email, issuer: ISSUER } }))),
    },
    subject,
    trust.material,
    Date.now(),
  );
const judge = (rule: string, name: string, findings: ReturnType<typeof bundleBy>[]) =>
  evaluateSignatures({
    rule: policy.rules.find((r) => r.name === rule),
    canonicalName: name,
    identity: undefined,
    digest,
    findings,
    trust,
    now: Date.now(),
  });

describe('one signature, threshold 2', () => {
  const alice = bundleBy('alice@org.example');
  test('control: the signature verifies under both roots', () => {
    assert.equal(alice.failure, undefined);
    assert.deepEqual(alice.verifiedBy, ['pg', 'pg-tuf']);
  });
  test('(a) alice alone, her certificate anchored by two roots listing the same people › must not meet threshold 2', () => {
    const d = judge('two-people-two-roots', NAME, [alice]);
    assert.notEqual(d.outcome, 'allow', `one signature counted as ${d.signers.join(' + ')}`);
  });
  test('(b) alice alone, matching two overlapping identities › must not meet threshold 2', () => {
    const d = judge('overlap', 'ghcr.io/overlap/app', [alice]);
    assert.notEqual(d.outcome, 'allow', `one signature counted as ${d.signers.join(' + ')}`);
  });
});
