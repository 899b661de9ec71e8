// Keyless authorities in a rule, judged over findings (the verifier's output) with a real compiled
// trust store: identities, transparency-log modes, trusted signing time, roots and signer counting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { evaluateSignatures } from '../../src/policy/evaluate.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import type { TrustEntry } from '../../src/trust/types.ts';
import type { CertificateEvidence, CertificateIdentity, SignatureFinding } from '../../src/verify/types.ts';

const NOW = Date.parse('2026-12-04T00:00:00Z');
const NAME = 'ghcr.io/org/app';
const DIGEST = `sha256:${'b'.repeat(64)}` as const;
const PUBLIC_GOOD = readFileSync(new URL('../../config/sigstore/public-good.trusted_root.json', import.meta.url), 'utf8');
const PKI = ['pki_root_crts.pem', 'pki_intermediate_crts.pem']
  .map((f) => readFileSync(new URL(`../fixtures/containers-image/keys/${f}`, import.meta.url), 'utf8'))
  .join('\n');
const root = (id: string, extra: Partial<TrustEntry>): TrustEntry => ({
  id,
  kind: 'sigstore-root',
  pem: '',
  scopes: ['ghcr.io/**'],
  purposes: ['sign'],
  origin: 'file',
  ...extra,
});
const trust = compileTrust({
  version: 3,
  entries: [
    root('pg', { trustedRoot: PUBLIC_GOOD }),
    root('pg2', { trustedRoot: PUBLIC_GOOD }),
    root('corp', { pem: PKI }),
    root('gone', { trustedRoot: PUBLIC_GOOD }),
    root('elsewhere', { trustedRoot: PUBLIC_GOOD, scopes: ['quay.io/**'] }),
  ],
  revocations: [{ id: 'gone', revokedAt: 1_000, reason: 'compromised' }],
});
const GH = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1.2.0';
const rules = parsePolicy(
  `version: 1
rules:
  - name: gh
    images: ["ghcr.io/org/**"]
    signatures:
      keyless:
        - root: pg
          identities:
            - { name: release, issuer: "${GH}", subjectRegExp: '^https://github\\.com/org/app/\\.github/workflows/release\\.yml@refs/tags/v.*$' }
        - root: gone
          identities: [{ issuer: "${GH}", subject: "${WORKFLOW}" }]
        - root: elsewhere
          identities: [{ issuer: "${GH}", subject: "${WORKFLOW}" }]
  - name: optional
    images: ["ghcr.io/opt/**"]
    signatures: { keyless: [{ root: pg, transparencyLog: optional, identities: [{ issuer: "${GH}", subject: "${WORKFLOW}" }] }] }
  - name: off-logged
    images: ["ghcr.io/offlog/**"]
    signatures: { keyless: [{ root: pg, transparencyLog: off, identities: [{ issuer: "${GH}", subject: "${WORKFLOW}" }] }] }
  - name: pki
    images: ["ghcr.io/pki/**"]
    signatures: { keyless: [{ root: corp, transparencyLog: off, identities: [{ name: host, subject: myhost.example.com }] }] }
  - name: two
    images: ["ghcr.io/two/**"]
    signatures:
      threshold: 2
      required: [pg/a]
      keyless:
        - { root: pg, identities: [{ name: a, issuer: "${GH}", subject: "${WORKFLOW}" }, { name: b, issuer: "${GH}", subject: "x@y.z" }] }
  - name: keys-only
    images: ["ghcr.io/keys/**"]
`,
  'policy.yaml',
  () => {},
).rules;

const identity = (extra: Partial<CertificateIdentity> = {}): CertificateIdentity => ({
  emails: [],
  uris: [WORKFLOW],
  dnsNames: [],
  issuer: GH,
  ...extra,
});
function keyless(
  rootId: string,
  options: { identity?: CertificateIdentity; time?: CertificateEvidence['signingTime']; log?: boolean } = {},
): SignatureFinding {
  return {
    scheme: 'sigstore-bundle',
    source: 'referrer#0',
    verifiedBy: [rootId],
    certificates: [
      {
        root: rootId,
        identity: options.identity ?? identity(),
        signingTime: options.time ?? { source: 'tlog', at: NOW - 1000 },
        certificateNotAfter: NOW - 500,
        pathNotAfter: NOW - 600,
      },
    ],
    logEntries:
      options.log === false
        ? []
        : [{ root: rootId, logIndex: '42', integratedTime: NOW - 1000, kind: 'hashedrekord/0.0.1', promise: true, proof: true }],
  };
}
function judge(ruleName: string, findings: SignatureFinding[], image = NAME) {
  return evaluateSignatures({
    rule: rules.find((r) => r.name === ruleName),
    canonicalName: image,
    identity: undefined,
    digest: DIGEST,
    findings,
    trust,
    now: NOW,
  });
}
const codes = (d: ReturnType<typeof judge>) => d.reasons.map((r) => r.code);

describe('keyless authorities', () => {
  it('the right identity under the rule root is one named signer; the verdict does not end with the certificate', () => {
    const d = judge('gh', [keyless('pg')]);
    assert.equal(d.outcome, 'allow', JSON.stringify(d.reasons));
    assert.deepEqual(d.signers, ['pg/release']);
    assert.equal(d.notAfter, undefined);
  });
  it('one workflow signing twice is one signer', () => {
    const d = judge('two', [keyless('pg'), keyless('pg')], 'ghcr.io/two/app');
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(codes(d), ['threshold_not_met']);
    assert.match(d.reasons[0]!.message, /^1 of 2 required signers \(pg\/a\)$/);
  });
  it('two identities of one root are two signers: threshold met, required present', () => {
    const second = keyless('pg', { identity: identity({ uris: [], emails: ['x@y.z'] }) });
    const d = judge('two', [keyless('pg'), second], 'ghcr.io/two/app');
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.signers, ['pg/a', 'pg/b']);
    const missing = judge('two', [second, { ...second, source: 'other' }], 'ghcr.io/two/app');
    assert.deepEqual(codes(missing), ['threshold_not_met', 'required_signer_missing']);
  });
  it('wrong subject, wrong issuer, no issuer › identity_mismatch', () => {
    for (const wrong of [
      identity({ uris: ['https://github.com/org/other/.github/workflows/release.yml@refs/tags/v1'] }),
      identity({ issuer: 'https://gitlab.com' }),
    ]) {
      const d = judge('gh', [keyless('pg', { identity: wrong })]);
      assert.deepEqual(codes(d), ['identity_mismatch']);
    }
    const { issuer: _none, ...noIssuer } = identity();
    assert.deepEqual(codes(judge('gh', [keyless('pg', { identity: noIssuer })])), ['identity_mismatch']);
  });
  it('the RegExp matches the whole value: a prefix, or another ref, does not match', () => {
    assert.deepEqual(codes(judge('gh', [keyless('pg', { identity: identity({ uris: [`evil${WORKFLOW}`] }) })])), ['identity_mismatch']);
    const branch = WORKFLOW.replace('refs/tags/v1.2.0', 'refs/heads/main');
    assert.deepEqual(codes(judge('gh', [keyless('pg', { identity: identity({ uris: [branch] }) })])), ['identity_mismatch']);
  });
  it('required log and none › tlog_missing; optional › allowed with a trusted time', () => {
    assert.deepEqual(codes(judge('gh', [keyless('pg', { log: false })])), ['tlog_missing']);
    assert.equal(
      judge('optional', [keyless('pg', { log: false, time: { source: 'tsa', at: NOW - 1000 } })], 'ghcr.io/opt/app').outcome,
      'allow',
    );
  });
  it('transparencyLog: off under a root with logs is read as required', () => {
    const d = judge('off-logged', [keyless('pg', { log: false })], 'ghcr.io/offlog/app');
    assert.deepEqual(codes(d), ['tlog_missing']);
    assert.match(d.reasons[0]!.message, /transparencyLog: off applies only to a bring-your-own PKI root/);
  });
  it('no trusted signing time counts only under off, for a PKI root, until the certificate expires; DNS names identify there', () => {
    const pkiIdentity: CertificateIdentity = { emails: ['qiwan@redhat.com'], uris: [], dnsNames: ['myhost.example.com'] };
    const finding = {
      ...keyless('corp', { identity: pkiIdentity, time: { source: 'verification-time', at: NOW }, log: false }),
      notAfter: NOW + 5000,
    };
    const d = judge('pki', [finding], 'ghcr.io/pki/app');
    assert.equal(d.outcome, 'allow', JSON.stringify(d.reasons));
    assert.deepEqual(d.signers, ['corp/host']);
    assert.equal(d.notAfter, NOW + 5000);
    assert.deepEqual(codes(judge('optional', [keyless('pg', { time: { source: 'verification-time', at: NOW } })], 'ghcr.io/opt/app')), [
      'tlog_missing',
    ]);
    assert.deepEqual(
      codes(judge('gh', [keyless('pg', { identity: { ...pkiIdentity, uris: [], issuer: GH, dnsNames: [WORKFLOW] } })])),
      ['identity_mismatch'],
      'DNS names never identify under a Fulcio root',
    );
  });
  it('a revoked root › key_revoked; out of scope › untrusted_signer; a root the rule does not name › untrusted_signer; a keys-only rule › untrusted_signer', () => {
    assert.deepEqual(codes(judge('gh', [keyless('gone')])), ['key_revoked']);
    assert.deepEqual(codes(judge('gh', [keyless('elsewhere')])), ['untrusted_signer']);
    assert.match(judge('gh', [keyless('pg2')]).reasons[0]!.message, /sigstore root "pg2" is not a keyless authority of rule "gh"/);
    assert.match(judge('keys-only', [keyless('pg')], 'ghcr.io/keys/app').reasons[0]!.message, /lists no keyless authority/);
  });
});
