// Keyless certificate signatures (docs/keyless.md): cosign `.sig` layers with certificate, chain and
// SET annotations, and sigstore bundles (v0.3 message and DSSE, v0.2 with a chain) with SET,
// inclusion proof and checkpoint, SCT and RFC 3161 timestamps, made with the offline sigstore kit
// under a trusted root it builds (test/fuzz/targets/keyless-cases.ts). Oracle: each valid signature
// counts, with evidence that claims only what it carries; no mutation counts unless it provably
// leaves what was signed, logged and timestamped unchanged (the exceptions are listed in
// keyless-cases.ts with their reasons); no attacker-made signature counts, whatever benign tweak is
// added; the verifier never throws, never changes its inputs, and answers the same at any clock.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyCosignSignature, verifySigstoreBundle } from '../../../src/verify/cosign/index.ts';
import type { SignatureFinding } from '../../../src/verify/types.ts';
import { COSIGN_ANNOTATIONS, type BundleJson } from '../../kit/sigstore-services.ts';
import { applyEdits, jsonEdit, jsonText, settle, type Settled } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { assertFinding } from './crypto-kit.ts';
import { certificateMeaning, timestampMeaning } from './der-meaning.ts';
import {
  apply,
  applies,
  breaking,
  build,
  draftOf,
  LATER,
  makeMaterial,
  mutation,
  NOW,
  ROOT_IDS,
  SIGNER,
  T,
  trustOf,
  tweak,
  verdictOf,
  type Built,
  type Draft,
  type Material,
  type Mutation,
  type Signed,
} from './keyless-cases.ts';

function verify(m: Material, c: Built, now: number): Settled<SignatureFinding> {
  const trust = trustOf(m, c.trust);
  return settle(() =>
    c.form === 'cosign'
      ? verifyCosignSignature(c.artifact, c.subject, trust, now)
      : verifySigstoreBundle({ scheme: 'sigstore-bundle', source: 'fuzz', bundle: c.bundle }, c.subject, trust, now),
  );
}

const rootId = (d: Draft): string => (d.trust === 'full' ? 'local' : 'local-root-only');
const show = (f: SignatureFinding): string => JSON.stringify(f).slice(0, 1500);

/**
 * A counted finding claims only what the signature still carries: the root, the signer's identity,
 * a signing time from the SET when a valid one is left (else from the timestamp), and exactly the
 * log entries left, with their promise and proof; checked at a trusted time, it never expires.
 */
function checkEvidence(d: Draft, f: SignatureFinding, what: string): void {
  const root = rootId(d);
  assert.deepEqual(f.verifiedBy, [root], `${what}: verifiedBy`);
  assert.equal(f.certificates?.length, 1, `${what}: one certificate evidence per root`);
  const c = f.certificates![0]!;
  assert.equal(c.root, root, `${what}: certificates[0].root`);
  assert.deepEqual(c.identity.emails, [SIGNER], `${what}: the identity is the original leaf's`);
  if (d.promise) assert.deepEqual(c.signingTime, { source: 'tlog', at: T + 1000 }, `${what}: the SET's integrated time`);
  else {
    assert.equal(c.signingTime.source, 'tsa', `${what}: without a SET the time can only come from the timestamp`);
    assert.ok(d.tsaAt !== undefined && Math.abs(c.signingTime.at - d.tsaAt) < 1000, `${what}: the timestamp's time`);
  }
  const entries = f.logEntries ?? [];
  assert.equal(entries.length, d.entries, `${what}: log entries claimed`);
  for (const e of entries) {
    assert.equal(e.root, root);
    assert.equal(e.promise, d.promise, `${what}: promise claimed`);
    assert.equal(e.proof, d.proof, `${what}: proof claimed`);
  }
  assert.equal(f.notAfter, undefined, `${what}: checked at a trusted signing time, it does not expire with the leaf`);
}

/** Verifies the draft and holds the finding to the oracle; returns the finding. */
function judge(m: Material, d: Draft, what: string): SignatureFinding {
  const result = verify(m, build(d), NOW);
  assert.ok(result.ok, `${what}: threw ${String(!result.ok && (result.error as Error)?.stack)}`);
  const f = result.value;
  assertFinding(f, d.signed.form === 'cosign' ? 'cosign' : 'sigstore-bundle', ROOT_IDS);
  const verdict = verdictOf(d);
  const why = d.verdicts.map((v) => `${v.verdict}: ${v.why}`).join('; ');
  if (verdict === 'deny') assert.ok(f.failure !== undefined, `${what} was accepted (${why}): ${show(f)}`);
  if (verdict === 'allow') assert.equal(f.failure, undefined, `${what} should count (${why}): ${show(f)}`);
  if (f.failure === undefined) checkEvidence(d, f, what);
  return f;
}

// fast-check's printer: hostile values nested thousands deep print as a short name.
const named = (s: Signed, mutations: readonly Mutation[]): string =>
  `${s.name}${mutations.map((mu) => ` + ${fc.stringify(mu).slice(0, 300)}`).join('')}`;

function run(m: Material, s: Signed, mutations: readonly Mutation[], before?: (d: Draft) => void): SignatureFinding {
  const d = draftOf(s, m.subject);
  for (const mu of mutations) apply(m, d, mu);
  before?.(d);
  return judge(m, d, named(s, mutations));
}

// ---- property 6: JSON edits anywhere ---------------------------------------------------------

const b64 = (v: unknown): Buffer | undefined => (typeof v === 'string' ? Buffer.from(v, 'base64') : undefined);
const field = (v: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[key] : undefined),
    v,
  );
const same = (a: Buffer | undefined, b: Buffer | undefined): boolean => a !== undefined && b !== undefined && a.equals(b);

/** A counted bundle after arbitrary edits still holds the original certificate, content and the evidence its finding names. */
function bundleCoreKept(original: BundleJson, edited: unknown, f: SignatureFinding): string | undefined {
  const leaf = (j: unknown): Buffer | undefined =>
    b64(
      field(j, 'verificationMaterial', 'certificate', 'rawBytes') ??
        field(j, 'verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'),
    );
  const want = certificateMeaning(leaf(original)!);
  const got = leaf(edited);
  if (got === undefined || certificateMeaning(got) !== want) return 'the certificate changed';
  if (original.messageSignature !== undefined) {
    if (!same(b64(field(edited, 'messageSignature', 'signature')), b64(original.messageSignature.signature)))
      return 'the signature changed';
    if (!same(b64(field(edited, 'messageSignature', 'messageDigest', 'digest')), b64(original.messageSignature.messageDigest.digest)))
      return 'the digest changed';
  } else {
    const env = original.dsseEnvelope!;
    // protobuf-specs' fromJSON reads a string field with String(): ["x"] reads as "x", and the PAE
    // that was signed and is verified covers what was read, so only another string is another type.
    const payloadType = field(edited, 'dsseEnvelope', 'payloadType');
    if ((typeof payloadType === 'string' || Array.isArray(payloadType) ? String(payloadType) : undefined) !== env.payloadType)
      return 'the payload type changed';
    if (!same(b64(field(edited, 'dsseEnvelope', 'payload')), b64(env.payload))) return 'the payload changed';
    if (!same(b64(field(edited, 'dsseEnvelope', 'signatures', 0, 'sig')), b64(env.signatures[0]!.sig))) return 'the signature changed';
  }
  const source = f.certificates?.[0]?.signingTime.source;
  if (source === 'tlog') {
    const o = original.verificationMaterial.tlogEntries[0]!;
    const entries = field(edited, 'verificationMaterial', 'tlogEntries');
    const kept =
      Array.isArray(entries) &&
      entries.some(
        (e) =>
          same(b64(field(e, 'inclusionPromise', 'signedEntryTimestamp')), b64(o.inclusionPromise?.signedEntryTimestamp)) &&
          String(field(e, 'integratedTime')) === o.integratedTime &&
          String(field(e, 'logIndex')) === o.logIndex &&
          same(b64(field(e, 'logId', 'keyId')), b64(o.logId.keyId)) &&
          same(b64(field(e, 'canonicalizedBody')), b64(o.canonicalizedBody)),
      );
    if (!kept) return 'counted at a SET time, without the original SET, time, index, log or body';
  }
  if (source === 'tsa') {
    const want = timestampMeaning(b64(original.verificationMaterial.timestampVerificationData!.rfc3161Timestamps[0]!.signedTimestamp)!);
    const list = field(edited, 'verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps');
    const kept =
      Array.isArray(list) &&
      list.some((t) => {
        const token = b64(field(t, 'signedTimestamp'));
        return token !== undefined && timestampMeaning(token) === want;
      });
    if (!kept) return 'counted at a timestamp time without the original timestamp';
  }
  return undefined;
}

/** cosign's RekorBundle annotation after edits: a counted signature still has the original SET and everything it signs. */
function setCoreKept(original: string, edited: unknown): string | undefined {
  const o = JSON.parse(original) as { SignedEntryTimestamp: string; Payload: Record<string, unknown> };
  if (!same(b64(field(edited, 'SignedEntryTimestamp')), b64(o.SignedEntryTimestamp))) return 'the SET changed';
  for (const k of ['integratedTime', 'logIndex', 'logID'] as const)
    if (field(edited, 'Payload', k) !== o.Payload[k]) return `Payload.${k} changed`;
  if (!same(b64(field(edited, 'Payload', 'body')), b64(o.Payload['body']))) return 'Payload.body changed';
  return undefined;
}

export const keylessTarget: FuzzTarget = {
  name: 'verify-keyless',
  async open() {
    const m = makeMaterial();
    const all = [...m.bases, ...m.attacks];
    const baseIndex = fc.integer({ min: 0, max: m.bases.length - 1 });
    const attackIndex = fc.integer({ min: 0, max: m.attacks.length - 1 });
    const anyIndex = fc.integer({ min: 0, max: all.length - 1 });
    return {
      properties: [
        {
          // Deterministic: every base and every attack fixture once (one run, whatever the run count).
          name: 'every keyless base counts with its evidence (certificates[0].root set); every attack fixture is denied',
          weight: 1e-5,
          property: fc.property(fc.constant(null), () => {
            const failures: string[] = [];
            for (const s of all) {
              try {
                run(m, s, []);
              } catch (error) {
                failures.push((error as Error).message.split('\n')[0]!);
              }
            }
            assert.equal(failures.length, 0, `${failures.length} of ${all.length}:\n${failures.join('\n')}`);
          }),
        },
        {
          name: 'keyless: one mutation of certificate, chain, SET, body, checkpoint, proof, timestamp, signature, digest or artifact never counts unless its meaning is kept',
          weight: 1,
          property: fc.property(
            fc.tuple(baseIndex, mutation).filter(([i, mu]) => applies(m.bases[i]!, mu)),
            ([i, mu]) => void run(m, m.bases[i]!, [mu]),
          ),
        },
        {
          name: 'keyless: fields the verifiers ignore (proof rootHash/treeSize, checkpoint extras, proof-only entry fields, chain, spelling) never rescue a broken signature',
          weight: 0.3,
          property: fc.property(
            fc.tuple(baseIndex, breaking, tweak).filter(([i, b, t]) => applies(m.bases[i]!, b) && applies(m.bases[i]!, t)),
            ([i, b, t]) => {
              const s = m.bases[i]!;
              const d = draftOf(s, m.subject);
              apply(m, d, b);
              // A breaking mutation that happened to keep the meaning (an unsigned DER byte) proves nothing here.
              fc.pre(verdictOf(d) === 'deny');
              apply(m, d, t);
              judge(m, d, named(s, [b, t]));
            },
          ),
        },
        {
          name: 'keyless: an attacker-made signature (rogue CA, log, TSA or CT log, forged SET or checkpoint, unbound entry, re-issued certificate…) stays denied under any benign tweak',
          weight: 0.3,
          property: fc.property(
            fc.tuple(attackIndex, fc.option(tweak, { nil: undefined })).filter(([i, t]) => t === undefined || applies(m.attacks[i]!, t)),
            ([i, t]) => void run(m, m.attacks[i]!, t === undefined ? [] : [t]),
          ),
        },
        {
          name: 'keyless: the verifier never throws, never changes its inputs, and answers the same twice and at any clock',
          weight: 0.3,
          property: fc.property(
            fc.tuple(anyIndex, mutation).filter(([i, mu]) => applies(all[i]!, mu)),
            ([i, mu]) => {
              const d = draftOf(all[i]!, m.subject);
              apply(m, d, mu);
              const c = build(d);
              const snapshot = jsonText(c);
              const first = verify(m, c, NOW);
              const second = verify(m, c, LATER);
              assert.ok(first.ok && second.ok, `threw: ${String(!first.ok ? first.error : !second.ok ? second.error : '')}`);
              assert.deepEqual(second.value, first.value, 'a root with logs must not depend on the evaluation time');
              assert.equal(jsonText(c), snapshot, 'the verifier changed its input');
            },
          ),
        },
        {
          name: 'keyless: arbitrary JSON edits of a bundle or of the SET annotation never count without the original certificate, content and time evidence',
          weight: 0.3,
          property: fc.property(baseIndex, fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), (i, edits) => {
            const s = m.bases[i]!;
            const d = draftOf(s, m.subject);
            let edited: unknown;
            if (s.form === 'bundle') {
              edited = applyEdits(d.bundle, edits);
              d.bundle = edited as BundleJson;
            } else {
              edited = applyEdits(JSON.parse(d.annotations![COSIGN_ANNOTATIONS.bundle]!), edits);
              d.annotations![COSIGN_ANNOTATIONS.bundle] = jsonText(edited);
            }
            const c = build(d);
            const result = verify(m, c, NOW);
            assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
            assertFinding(result.value, s.form === 'bundle' ? 'sigstore-bundle' : 'cosign', ROOT_IDS);
            if (result.value.failure !== undefined) return;
            const problem =
              s.form === 'bundle'
                ? bundleCoreKept(s.bundle!, edited, result.value)
                : setCoreKept(s.cosign!.annotations[COSIGN_ANNOTATIONS.bundle]!, edited);
            assert.equal(problem, undefined, `${s.name}: counted although ${problem}: ${show(result.value)}`);
            assert.deepEqual(result.value.certificates?.[0]?.identity.emails, [SIGNER]);
          }),
        },
      ],
    };
  },
};
