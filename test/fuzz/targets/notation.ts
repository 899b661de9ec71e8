// Notary Project JWS envelopes (src/verify/notation). Oracle: an envelope signed here by a leaf
// chained to a trusted root counts; changing the signature, payload, protected header, chain, key,
// subject or clock past the certificates never yields a counting finding.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { verifyNotationSignature } from '../../../src/verify/notation/index.ts';
import type { Subject, TrustMaterial } from '../../../src/verify/types.ts';
import type { NotationPki } from '../../kit/notation-pki.ts';
import { signNotation, type NotationAlg } from '../../kit/notation-sign.ts';
import {
  anyBytes,
  anyDigest,
  anyText,
  applyEdits,
  bitFlip,
  flipBit,
  hostileKey,
  jsonEdit,
  jsonish,
  jsonText,
  objectOf,
  settleAsync,
  shallowJsonish,
  type BitFlip,
  type JsonEdit,
} from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { assertDenied, assertFinding, counts, sharedPki, subjectArb, subjectOf } from './crypto-kit.ts';

const DAY = 86_400_000;
const JWS = 'application/jose+json';
const H = 'io.cncf.notary.';

export interface Signing {
  readonly pki: NotationPki;
  readonly alg: NotationAlg;
  readonly rootId: string;
}

type HeaderChange =
  | { readonly kind: 'alg'; readonly alg: string }
  | { readonly kind: 'cty'; readonly cty: string }
  | { readonly kind: 'scheme'; readonly scheme: string }
  | { readonly kind: 'expiry'; readonly days: number }
  | { readonly kind: 'crit'; readonly crit: unknown }
  | { readonly kind: 'plugin' }
  | { readonly kind: 'signing-time'; readonly value: unknown }
  | { readonly kind: 'extra'; readonly key: string; readonly value: unknown };

export type NotationMutation = Mutation;
type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip'; readonly member: 'payload' | 'protected' | 'signature'; readonly flip: BitFlip }
  | { readonly kind: 'protected-edits'; readonly edits: readonly JsonEdit[] }
  | { readonly kind: 'header-resigned'; readonly change: HeaderChange }
  | {
      readonly kind: 'target-resigned';
      readonly field: 'digest' | 'size' | 'mediaType';
      readonly digest: string;
      readonly size: number;
      readonly mediaType: string;
    }
  | {
      readonly kind: 'chain';
      readonly change: 'flip' | 'drop-root' | 'drop-middle' | 'reverse' | 'attacker-root' | 'attacker-chain' | 'append-root' | 'empty';
      readonly flip: BitFlip;
      readonly at: number;
    }
  | { readonly kind: 'attacker-signed' }
  | { readonly kind: 'envelope-edits'; readonly edits: readonly JsonEdit[] }
  | {
      readonly kind: 'duplicate-member';
      readonly member: 'payload' | 'protected' | 'signature' | 'header';
      readonly otherLast: boolean;
      readonly other: unknown;
    }
  | { readonly kind: 'media-type'; readonly mediaType: string }
  | { readonly kind: 'other-subject'; readonly bytes: Buffer }
  | { readonly kind: 'clock'; readonly days: number };

const headerChange: fc.Arbitrary<HeaderChange> = fc.oneof(
  fc.record({
    kind: fc.constant('alg' as const),
    alg: fc.constantFrom('ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'HS256', 'none', 'EdDSA', 'es256'),
  }),
  fc.record({
    kind: fc.constant('cty' as const),
    cty: fc.oneof(anyText, fc.constant('application/vnd.cncf.notary.payload.v1+json'), fc.constant('application/json')),
  }),
  fc.record({
    kind: fc.constant('scheme' as const),
    scheme: fc.oneof(anyText, fc.constantFrom('notary.x509', 'notary.default.x509', 'NOTARY.X509')),
  }),
  fc.record({ kind: fc.constant('expiry' as const), days: fc.integer({ min: -400, max: 400 }) }),
  fc.record({
    kind: fc.constant('crit' as const),
    crit: fc.oneof(
      shallowJsonish,
      fc.constant([]),
      fc.constant([`${H}signingScheme`, `${H}signingScheme`]),
      fc.constant([`${H}signingScheme`, 'b64']),
      fc.constant([`${H}expiry`]),
    ),
  }),
  fc.constant({ kind: 'plugin' as const }),
  fc.record({
    kind: fc.constant('signing-time' as const),
    value: fc.oneof(shallowJsonish, fc.constantFrom('2022-02-30T00:00:00Z', '2024-01-01T00:00:00+25:00', '2024-01-01 00:00:00Z')),
  }),
  fc.record({
    kind: fc.constant('extra' as const),
    key: hostileKey.filter((k) => !['alg', 'crit', 'cty', 'b64'].includes(k) && !k.startsWith(H)),
    value: shallowJsonish,
  }),
);

export const notationMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({
    kind: fc.constant('flip' as const),
    member: fc.constantFrom('payload' as const, 'protected' as const, 'signature' as const),
    flip: bitFlip,
  }),
  fc.record({ kind: fc.constant('protected-edits' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('header-resigned' as const), change: headerChange }),
  fc.record({
    kind: fc.constant('target-resigned' as const),
    field: fc.constantFrom('digest' as const, 'size' as const, 'mediaType' as const),
    digest: anyDigest,
    size: fc.nat(),
    mediaType: anyText,
  }),
  fc.record({
    kind: fc.constant('chain' as const),
    change: fc.constantFrom(
      'flip' as const,
      'drop-root' as const,
      'drop-middle' as const,
      'reverse' as const,
      'attacker-root' as const,
      'attacker-chain' as const,
      'append-root' as const,
      'empty' as const,
    ),
    flip: bitFlip,
    at: fc.nat(),
  }),
  fc.constant({ kind: 'attacker-signed' as const }),
  fc.record({ kind: fc.constant('envelope-edits' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('duplicate-member' as const),
    member: fc.constantFrom('payload' as const, 'protected' as const, 'signature' as const, 'header' as const),
    otherLast: fc.boolean(),
    other: fc.oneof(
      jsonish,
      anyBytes.map((b) => b.toString('base64url')),
    ),
  }),
  fc.record({
    kind: fc.constant('media-type' as const),
    mediaType: fc.oneof(anyText, fc.constantFrom('application/cose', 'application/jose', 'APPLICATION/JOSE+JSON')),
  }),
  fc.record({
    kind: fc.constant('other-subject' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
  }),
  fc.record({ kind: fc.constant('clock' as const), days: fc.integer({ min: -60, max: 60 }) }),
);

type Expect = 'deny' | 'allow' | 'any';
interface Case {
  readonly envelope: Buffer;
  readonly mediaType: string;
  readonly subject: Subject;
  readonly now: number;
  readonly expect: Expect;
}
type Envelope = { payload: string; protected: string; header: Record<string, unknown>; signature: string };

const derB64 = (pem: string): string => new X509Certificate(pem).raw.toString('base64');
const b64urlJson = (text: string): unknown => JSON.parse(Buffer.from(text, 'base64url').toString());

/** Every certificate of the chain valid at `at`, with a second of margin on both sides ('any' inside the margin). */
function validity(pki: NotationPki, at: number): Expect {
  const bounds = pki.chainPem.map((pem) => new X509Certificate(pem)).map((c) => [Date.parse(c.validFrom), Date.parse(c.validTo)] as const);
  if (bounds.every(([from, to]) => at >= from + 1000 && at <= to - 1000)) return 'allow';
  if (bounds.some(([from, to]) => at < from - 1000 || at > to + 1000)) return 'deny';
  return 'any';
}

export function notationCase(signing: Signing, attacker: NotationPki, subject: Subject, m: Mutation): Case {
  const { pki, alg } = signing;
  const now = Date.now() + 60_000;
  const sign = (extra: Partial<Parameters<typeof signNotation>[0]> = {}): Buffer =>
    signNotation({ leafKeyPem: pki.leaf.keyPem, chainPem: pki.chainPem, alg, subject, signingTime: new Date(now - 30_000), ...extra });
  const original = sign();
  const env = (): Envelope => JSON.parse(original.toString()) as Envelope;
  const base = { mediaType: JWS, subject, now };
  const out = (envelope: Buffer | Envelope, expect: Expect): Case => ({
    ...base,
    envelope: Buffer.isBuffer(envelope) ? envelope : Buffer.from(jsonText(envelope)),
    expect,
  });
  switch (m.kind) {
    case 'none':
      return out(original, validity(pki, now));
    case 'flip': {
      const e = env();
      e[m.member] = flipBit(Buffer.from(e[m.member], 'base64url'), m.flip).toString('base64url');
      return out(e, 'deny');
    }
    case 'protected-edits': {
      const e = env();
      const edited = jsonText(applyEdits(b64urlJson(e.protected), m.edits));
      const changed = Buffer.from(edited).toString('base64url');
      const same = changed === e.protected;
      e.protected = changed;
      return out(e, same ? 'any' : 'deny');
    }
    case 'header-resigned':
      return headerCase(sign, m.change, signing, now, out);
    case 'target-resigned': {
      const target = {
        ...subject,
        ...(m.field === 'digest'
          ? { digest: m.digest as Subject['digest'] }
          : m.field === 'size'
            ? { size: m.size }
            : { mediaType: m.mediaType }),
      };
      const same = target.digest === subject.digest && target.size === subject.size && target.mediaType === subject.mediaType;
      return out(sign({ subject: target }), same ? 'any' : 'deny');
    }
    case 'chain': {
      const e = env();
      const x5c = [...(e.header['x5c'] as string[])];
      const i = m.at % x5c.length;
      const chains: Record<typeof m.change, unknown> = {
        flip: x5c.map((c, j) => (j === i ? flipBit(Buffer.from(c, 'base64'), m.flip).toString('base64') : c)),
        'drop-root': x5c.slice(0, -1),
        'drop-middle': x5c.length > 2 ? [x5c[0], ...x5c.slice(2)] : x5c.slice(1),
        reverse: [...x5c].reverse(),
        'attacker-root': [...x5c.slice(0, -1), derB64(attacker.root.certPem)],
        'attacker-chain': attacker.chainPem.map(derB64),
        'append-root': [...x5c, x5c[x5c.length - 1]],
        empty: [],
      };
      e.header = { ...e.header, x5c: chains[m.change] };
      // Reversing a chain of one is no change; every other edit breaks the chain or the key.
      return out(e, m.change === 'reverse' && x5c.length === 1 ? validity(pki, now) : 'deny');
    }
    case 'attacker-signed':
      return out(
        signNotation({
          leafKeyPem: attacker.leaf.keyPem,
          chainPem: attacker.chainPem,
          alg: 'ES256',
          subject,
          signingTime: new Date(now - 30_000),
        }),
        'deny',
      );
    case 'envelope-edits': {
      const e = env();
      const edited = applyEdits(e, m.edits) as Partial<Envelope> | null;
      const kept =
        edited !== null &&
        typeof edited === 'object' &&
        edited.payload === e.payload &&
        edited.protected === e.protected &&
        edited.signature === e.signature &&
        jsonText((edited.header as Record<string, unknown> | undefined)?.['x5c']) === jsonText(e.header['x5c']);
      return out(Buffer.from(jsonText(edited)), kept ? 'any' : 'deny');
    }
    case 'duplicate-member': {
      // JSON.parse keeps the last of duplicated members; the first is ignored.
      const e = env();
      const ours = `${JSON.stringify(m.member)}:${jsonText(e[m.member])}`;
      const theirs = `${JSON.stringify(m.member)}:${jsonText(m.other)}`;
      const text = original.toString().replace(ours, m.otherLast ? `${ours},${theirs}` : `${theirs},${ours}`);
      const same = jsonText(m.other) === jsonText(e[m.member]);
      return out(Buffer.from(text), m.otherLast && !same ? 'deny' : 'any');
    }
    case 'media-type':
      return { ...out(original, m.mediaType === JWS ? validity(pki, now) : 'deny'), mediaType: m.mediaType };
    case 'other-subject': {
      const other = subjectOf(m.bytes, subject.mediaType);
      return { ...out(original, other.digest === subject.digest && other.size === subject.size ? 'any' : 'deny'), subject: other };
    }
    case 'clock': {
      const at = now + m.days * DAY;
      return { ...out(original, validity(pki, at)), now: at };
    }
  }
}

function headerCase(
  sign: (extra?: Partial<Parameters<typeof signNotation>[0]>) => Buffer,
  change: HeaderChange,
  signing: Signing,
  now: number,
  out: (e: Buffer, x: Expect) => Case,
): Case {
  const ok = validity(signing.pki, now);
  switch (change.kind) {
    case 'alg':
      return out(sign({ extraProtected: { alg: change.alg } }), change.alg === signing.alg ? ok : 'deny');
    case 'cty':
      return out(sign({ extraProtected: { cty: change.cty } }), change.cty === 'application/vnd.cncf.notary.payload.v1+json' ? ok : 'deny');
    case 'scheme':
      return out(sign({ extraProtected: { [`${H}signingScheme`]: change.scheme } }), change.scheme === 'notary.x509' ? ok : 'deny');
    case 'expiry': {
      const expiry = new Date(now + change.days * DAY);
      return out(sign({ expiry }), change.days > 0 ? ok : 'deny');
    }
    case 'crit':
      return out(sign({ extraProtected: { crit: change.crit } }), jsonText(change.crit) === jsonText([`${H}signingScheme`]) ? ok : 'deny');
    case 'plugin':
      return out(sign({ extraProtected: { [`${H}verificationPlugin`]: 'com.example.plugin' } }), 'deny');
    case 'signing-time':
      return out(sign({ extraProtected: { [`${H}signingTime`]: change.value } }), 'any');
    case 'extra':
      return out(sign({ extraProtected: objectOf([[change.key, change.value]]) }), 'any');
  }
}

/** Counterexamples name the signing setup instead of printing its PEMs. */
function named(signing: Signing): Signing {
  return Object.defineProperty(signing, fc.toStringMethod, { value: () => `<${signing.alg} ${signing.rootId}>` });
}

export const notationTarget: FuzzTarget = {
  name: 'verify-notation',
  async open() {
    // The attacker's PKI has the same subjects as ec-chain: names alone must not pass.
    const [ecChain, rsaSingle, attacker] = await Promise.all([sharedPki('ec-chain'), sharedPki('rsa'), sharedPki('attacker')]);
    const signings: Signing[] = [
      named({ pki: ecChain, alg: 'ES256', rootId: 'ca-ec' }),
      named({ pki: rsaSingle, alg: 'PS256', rootId: 'ca-rsa' }),
    ];
    const trust: TrustMaterial = {
      keys: [],
      roots: signings.map((s) => ({ id: s.rootId, certificate: new X509Certificate(s.pki.root.certPem) })),
      sigstoreRoots: [],
      tsaRoots: [],
    };
    const ids = signings.map((s) => s.rootId);
    const verify = async (envelope: Buffer, mediaType: string, subject: Subject, now: number) => {
      const result = await settleAsync(() =>
        verifyNotationSignature({ scheme: 'notation', source: 'fuzz', mediaType, envelope }, subject, trust, now),
      );
      assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
      assertFinding(result.value, 'notation', ids);
      return result.value;
    };
    return {
      properties: [
        {
          name: 'JWS: the valid envelope counts; mutated signature, payload, header, chain, key, subject or clock never does',
          property: fc.asyncProperty(fc.constantFrom(...signings), subjectArb, notationMutation, async (signing, subject, m) => {
            const c = notationCase(signing, attacker, subject, m);
            const finding = await verify(c.envelope, c.mediaType, c.subject, c.now);
            const what = `${signing.alg} ${m.kind}${m.kind === 'chain' ? ` ${m.change}` : m.kind === 'header-resigned' ? ` ${m.change.kind}` : ''}`;
            if (c.expect === 'deny') assertDenied(finding, what);
            if (c.expect === 'allow') assert.ok(counts(finding), `${what} should count: ${JSON.stringify(finding.failure)}`);
            if (counts(finding)) assert.deepEqual(finding.verifiedBy, [signing.rootId]);
          }),
        },
        {
          name: 'JWS: hostile envelopes (random members around a real chain) never throw and never count',
          property: fc.asyncProperty(
            fc.oneof(
              anyBytes,
              jsonish.map((v) => Buffer.from(jsonText(v))),
              fc
                .record({
                  payload: fc.oneof(
                    anyText,
                    anyBytes.map((b) => b.toString('base64url')),
                  ),
                  protected: fc.oneof(
                    anyText,
                    jsonish.map((v) => Buffer.from(jsonText(v)).toString('base64url')),
                    fc
                      .constant({
                        alg: 'ES256',
                        cty: 'application/vnd.cncf.notary.payload.v1+json',
                        crit: [`${H}signingScheme`],
                        [`${H}signingScheme`]: 'notary.x509',
                        [`${H}signingTime`]: '2024-01-01T00:00:00Z',
                      })
                      .map((h) => Buffer.from(JSON.stringify(h)).toString('base64url')),
                  ),
                  header: fc.record({
                    x5c: fc.oneof(
                      jsonish,
                      fc.constant(ecChain.chainPem.map(derB64)),
                      fc.array(
                        anyBytes.map((b) => b.toString('base64')),
                        { maxLength: 3 },
                      ),
                    ),
                  }),
                  signature: fc.oneof(
                    anyText,
                    anyBytes.map((b) => b.toString('base64url')),
                  ),
                })
                .map((e) => Buffer.from(jsonText(e))),
            ),
            fc.constantFrom(JWS, 'application/cose'),
            subjectArb,
            async (envelope, mediaType, subject) =>
              assertDenied(await verify(envelope, mediaType, subject, Date.now()), 'a forged envelope'),
          ),
        },
      ],
    };
  },
};
