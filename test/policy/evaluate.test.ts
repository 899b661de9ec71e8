import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { evaluateSignatures, type Evaluation } from '../../src/policy/evaluate.ts';
import { parsePolicy } from '../../src/policy/parse.ts';
import { compileTrust } from '../../src/trust/compile.ts';
import type { TrustEntry } from '../../src/trust/types.ts';
import type { SignatureFinding } from '../../src/verify/types.ts';

const NAME = 'reg/team/app';
const DIGEST = `sha256:${'a'.repeat(64)}` as const;
const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const key = (id: string, extra: Partial<TrustEntry> = {}): TrustEntry => ({
  id,
  kind: 'key',
  pem: pem(),
  scopes: ['reg/team/**'],
  purposes: ['sign'],
  origin: 'file',
  ...extra,
});
const trust = compileTrust({
  version: 7,
  entries: [
    key('a'),
    key('b'),
    key('c', { scopes: ['reg/other/**'] }),
    key('old', { notAfter: 1_000 }),
    key('gone'),
    key('scanner', { purposes: ['scan'] }),
    key('soon', { notAfter: 9_000_000 }),
  ],
  revocations: [{ id: 'gone', revokedAt: 500, reason: 'leaked' }],
});
const rules = parsePolicy(
  `version: 1
rules:
  - { name: one, images: ["reg/team/**"] }
  - { name: two, images: ["reg/two/**"], signatures: { threshold: 2 } }
  - { name: named, images: ["reg/named/**"], signatures: { trust: [a, b], required: [b] } }
  - { name: exact, images: ["reg/exact/**"], signatures: { signedIdentity: exact } }
  - { name: notary, images: ["reg/notary/**"], signatures: { notation: { trustedIdentities: ["x509.subject: C=US, ST=WA, O=Acme"] } } }
  - { name: soft, images: ["reg/soft/**"], mode: warn }
  - { name: open, images: ["reg/open/**"], mode: off }
`,
  'policy.yaml',
  () => {},
).rules;
const rule = (name: string) => rules.find((r) => r.name === name);
const ok = (...verifiedBy: string[]): SignatureFinding => ({ scheme: 'cosign', source: 'sig#0', verifiedBy });
const failed = (kind: NonNullable<SignatureFinding['failure']>['kind'], verifiedBy: string[] = []): SignatureFinding => ({
  scheme: 'cosign',
  source: 'sig#1',
  verifiedBy,
  failure: { kind, message: `${kind} problem` },
});

function judge(ruleName: string | undefined, findings: SignatureFinding[], extra: Partial<Evaluation> = {}) {
  return evaluateSignatures({
    rule: ruleName === undefined ? undefined : rule(ruleName),
    canonicalName: NAME,
    identity: `${NAME}:v1`,
    digest: DIGEST,
    findings,
    trust,
    now: 2_000,
    ...extra,
  });
}
const codes = (d: ReturnType<typeof judge>) => d.reasons.map((r) => r.code);

describe('signature evaluation', () => {
  it('one valid signature from a key in scope › allow, with the signer', () => {
    const d = judge('one', [ok('a')]);
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.signers, ['a']);
  });
  it("allow ends when the signer key's validity ends (notAfter)", () => {
    assert.equal(judge('one', [ok('soon')]).notAfter, 9_000_000);
    assert.equal(judge('one', [ok('a')]).notAfter, undefined);
  });
  it('no rule › deny no_matching_rule under the default rule', () => {
    const d = judge(undefined, [ok('a')]);
    assert.equal(d.rule, 'default');
    assert.deepEqual(codes(d), ['no_matching_rule']);
  });
  it('no signatures › unsigned', () => assert.deepEqual(codes(judge('one', [])), ['unsigned']));
  it('a signature that verifies with no trusted key › signature_invalid', () =>
    assert.equal(codes(judge('one', [failed('crypto')]))[0], 'signature_invalid'));
  it('a signature for another digest › digest_mismatch', () =>
    assert.equal(codes(judge('one', [failed('digest', ['a'])]))[0], 'digest_mismatch'));
  it('a key trusted only for other repositories › untrusted_signer, naming the key', () => {
    const d = judge('one', [ok('c')]);
    assert.equal(codes(d)[0], 'untrusted_signer');
    assert.match(d.reasons[0]!.message, /"c" is not trusted for this repository/);
  });
  it('a revoked key › key_revoked, even though the signature verifies', () =>
    assert.equal(codes(judge('one', [ok('gone')]))[0], 'key_revoked'));
  it('a key outside its validity window › key_not_valid', () => assert.equal(codes(judge('one', [ok('old')]))[0], 'key_not_valid'));
  it('a scan-only key cannot sign images › untrusted_signer', () =>
    assert.equal(codes(judge('one', [ok('scanner')]))[0], 'untrusted_signer'));
  it('threshold 2 with one signer › threshold_not_met', () => {
    const d = judge('two', [ok('a')], { canonicalName: 'reg/team/x' });
    assert.deepEqual(codes(d), ['threshold_not_met']);
  });
  it('threshold 2 with two distinct keys › allow; the same key twice does not count twice', () => {
    assert.equal(judge('two', [ok('a'), ok('b')], { canonicalName: 'reg/team/x' }).outcome, 'allow');
    const same = judge('two', [ok('a'), ok('a')], { canonicalName: 'reg/team/x' });
    assert.deepEqual(codes(same), ['threshold_not_met']);
  });
  it('a required signer missing › required_signer_missing; an unlisted key does not count', () => {
    const d = judge('named', [ok('a')], { canonicalName: 'reg/team/x' });
    assert.deepEqual(codes(d), ['required_signer_missing']);
    assert.equal(judge('named', [ok('b')], { canonicalName: 'reg/team/x' }).outcome, 'allow');
  });
  it('exact signed identity › identity_mismatch for another tag, allow for the pulled one', () => {
    const good: SignatureFinding = { ...ok('a'), signedReference: `${NAME}:v1` };
    const bad: SignatureFinding = { ...ok('a'), signedReference: `${NAME}:v2` };
    assert.equal(judge('exact', [good]).outcome, 'allow');
    assert.deepEqual(codes(judge('exact', [bad])), ['identity_mismatch']);
  });
  it('notation trusted identities › identity_mismatch for another subject', () => {
    const signer = (O: string): SignatureFinding => ({
      scheme: 'notation',
      source: 'referrer',
      verifiedBy: ['a'],
      signerSubject: { C: 'US', ST: 'WA', O, CN: 'builder' },
    });
    assert.equal(judge('notary', [signer('Acme')]).outcome, 'allow');
    assert.deepEqual(codes(judge('notary', [signer('Evil')])), ['identity_mismatch']);
  });
  it('warn mode › outcome warn with the would-be reasons', () => {
    const d = judge('soft', []);
    assert.equal(d.outcome, 'warn');
    assert.deepEqual(codes(d), ['unsigned']);
  });
  it('off mode › allow without looking', () => assert.equal(judge('open', []).outcome, 'allow'));
  it('one invalid and one valid signature › allow (any one suffices)', () =>
    assert.equal(judge('one', [failed('crypto'), ok('a')]).outcome, 'allow'));
  it('the denial message names how many signatures were checked and why', () => {
    const d = judge('one', [failed('crypto'), ok('c')]);
    assert.match(
      d.reasons[0]!.message,
      /^no valid signature from a trusted key \(2 checked: sig#1: crypto problem; sig#0: "c" is not trusted for this repository\)$/,
    );
  });
});
