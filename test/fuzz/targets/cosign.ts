// cosign simple-signing signatures and sigstore bundles (src/verify/cosign). Oracle: a signature
// made here with a trusted key over this manifest counts; once a mutation changes the signed bytes,
// the signature, the digest it names or the key, it never does.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyCosignSignature, verifySigstoreBundle } from '../../../src/verify/cosign/index.ts';
import type { CosignSignature, Subject } from '../../../src/verify/types.ts';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  dssePae,
  makeMessageSignatureBundle,
  makeSigstoreBundle,
  makeSimpleSigningPayload,
  signPayload,
} from '../../kit/cosign-sign.ts';
import {
  anyBytes,
  anyDigest,
  anyText,
  applyEdits,
  bitFlip,
  deepValue,
  flipBit,
  hostileKey,
  jsonEdit,
  jsonish,
  jsonText,
  objectOf,
  settle,
  type BitFlip,
  type JsonEdit,
} from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import {
  assertDenied,
  assertFinding,
  counts,
  sharedCosignKeys,
  subjectArb,
  subjectOf,
  type CosignKeys,
  type Signer,
} from './crypto-kit.ts';

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const TYPE = 'cosign container image signature';
const REFERENCE = 'registry.test/app/one:v1';

export type CosignMutation = Mutation;
type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'benign-annotations'; readonly extra: Record<string, string> }
  | { readonly kind: 'flip-signature'; readonly flip: BitFlip }
  | { readonly kind: 'edit-signature-text'; readonly index: number; readonly char: string }
  | { readonly kind: 'flip-payload'; readonly flip: BitFlip }
  | { readonly kind: 'append-payload'; readonly extra: Buffer }
  | { readonly kind: 'digest-unsigned'; readonly digest: string }
  | { readonly kind: 'digest-resigned'; readonly digest: string }
  | { readonly kind: 'other-subject'; readonly bytes: Buffer }
  | { readonly kind: 'type-resigned'; readonly type: string }
  | { readonly kind: 'duplicate-resigned'; readonly digest: string; readonly otherLast: boolean; readonly key: string }
  | { readonly kind: 'edits-resigned'; readonly edits: readonly JsonEdit[] }
  | { readonly kind: 'fold-duplicate-resigned'; readonly key: string; readonly value: unknown; readonly first: boolean }
  | { readonly kind: 'drop-signature' }
  | { readonly kind: 'media-type'; readonly mediaType: string }
  | { readonly kind: 'attacker-key'; readonly attacker: number }
  | { readonly kind: 'untrusted-signer' }
  | { readonly kind: 'ed25519ph' }
  | { readonly kind: 'other-hash' };

const otherDigest = anyDigest;
export const cosignMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc
    .array(
      fc.tuple(
        hostileKey.filter((k) => k !== COSIGN_SIGNATURE_ANNOTATION),
        anyText,
      ),
      { maxLength: 3 },
    )
    .map((entries) => ({ kind: 'benign-annotations' as const, extra: objectOf(entries) as Record<string, string> })),
  fc.record({ kind: fc.constant('flip-signature' as const), flip: bitFlip }),
  fc.record({
    kind: fc.constant('edit-signature-text' as const),
    index: fc.nat(),
    char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary-ascii' }),
  }),
  fc.record({ kind: fc.constant('flip-payload' as const), flip: bitFlip }),
  fc.record({
    kind: fc.constant('append-payload' as const),
    extra: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b)),
  }),
  fc.record({ kind: fc.constant('digest-unsigned' as const), digest: otherDigest }),
  fc.record({ kind: fc.constant('digest-resigned' as const), digest: otherDigest }),
  fc.record({
    kind: fc.constant('other-subject' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
  }),
  fc.record({
    kind: fc.constant('type-resigned' as const),
    type: fc.oneof(anyText, fc.constant(TYPE.toUpperCase()), fc.constant(`${TYPE} `)),
  }),
  fc.record({
    kind: fc.constant('duplicate-resigned' as const),
    digest: otherDigest,
    otherLast: fc.boolean(),
    key: fc.constantFrom('docker-manifest-digest', 'Docker-Manifest-Digest', 'DOCKER-MANIFEST-DIGEST', 'docker-manifeſt-digeſt'),
  }),
  fc.record({ kind: fc.constant('edits-resigned' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('fold-duplicate-resigned' as const),
    key: fc.constantFrom('Critical', 'CRITICAL', 'critical'),
    value: fc.oneof(jsonish, deepValue),
    first: fc.boolean(),
  }),
  fc.constant({ kind: 'drop-signature' as const }),
  fc.record({
    kind: fc.constant('media-type' as const),
    mediaType: fc.oneof(anyText, fc.constant(SIMPLE_SIGNING.toUpperCase()), fc.constant('application/vnd.dsse.envelope.v1+json')),
  }),
  fc.record({ kind: fc.constant('attacker-key' as const), attacker: fc.nat() }),
  fc.constant({ kind: 'untrusted-signer' as const }),
  fc.constant({ kind: 'ed25519ph' as const }),
  fc.constant({ kind: 'other-hash' as const }),
);

interface Case {
  readonly artifact: CosignSignature;
  readonly subject: Subject;
  readonly keys: CosignKeys['material'];
  /** What the oracle says: must be denied, must count, or either (the signed content is unchanged but odd). */
  readonly expect: 'deny' | 'allow' | 'any';
}

const artifactOf = (
  payload: Buffer,
  signature: string | undefined,
  extra: Record<string, string> = {},
  mediaType = SIMPLE_SIGNING,
): CosignSignature => ({
  scheme: 'cosign',
  source: 'fuzz',
  mediaType,
  payload,
  annotations: signature === undefined ? { ...extra } : { ...extra, [COSIGN_SIGNATURE_ANNOTATION]: signature },
});

/** Builds a valid signature by `signer` over `subject`, then applies the mutation; says what must happen. */
export function cosignCase(keys: CosignKeys, signer: Signer, subject: Subject, m: Mutation): Case {
  const payload = makeSimpleSigningPayload(subject.digest, REFERENCE);
  const sign = (bytes: Buffer, s: Signer = signer, options = s.options): string => signPayload(s.privateKey, bytes, options);
  const signature = sign(payload);
  const base = { subject, keys: keys.material };
  const resigned = (bytes: Buffer, expect: Case['expect']): Case => ({ ...base, artifact: artifactOf(bytes, sign(bytes)), expect });
  switch (m.kind) {
    case 'none':
      return { ...base, artifact: artifactOf(payload, signature), expect: 'allow' };
    case 'benign-annotations':
      return { ...base, artifact: artifactOf(payload, signature, m.extra), expect: 'allow' };
    case 'flip-signature':
      return {
        ...base,
        artifact: artifactOf(payload, flipBit(Buffer.from(signature, 'base64'), m.flip).toString('base64')),
        expect: 'deny',
      };
    case 'edit-signature-text': {
      const i = m.index % (signature.length + 1);
      const text = signature.slice(0, i) + m.char + signature.slice(i + 1);
      // Only a change of the decoded bytes must deny; Go's decoder (and ours) may read odd text to the same bytes.
      const same = Buffer.from(text, 'base64').equals(Buffer.from(signature, 'base64'));
      return { ...base, artifact: artifactOf(payload, text), expect: same ? 'any' : 'deny' };
    }
    case 'flip-payload':
      return { ...base, artifact: artifactOf(flipBit(payload, m.flip), signature), expect: 'deny' };
    case 'append-payload':
      return { ...base, artifact: artifactOf(Buffer.concat([payload, m.extra]), signature), expect: 'deny' };
    case 'digest-unsigned':
      return { ...base, artifact: artifactOf(makeSimpleSigningPayload(m.digest, REFERENCE), signature), expect: 'deny' };
    case 'digest-resigned':
      return resigned(makeSimpleSigningPayload(m.digest, REFERENCE), m.digest === subject.digest ? 'allow' : 'deny');
    case 'other-subject': {
      const other = subjectOf(m.bytes);
      return {
        ...base,
        subject: other,
        artifact: artifactOf(payload, signature),
        expect: other.digest === subject.digest ? 'allow' : 'deny',
      };
    }
    case 'type-resigned': {
      const text = payload.toString().replace(JSON.stringify(TYPE), JSON.stringify(m.type));
      return resigned(Buffer.from(text), m.type === TYPE ? 'allow' : 'deny');
    }
    case 'duplicate-resigned': {
      // Two digests in one `image` object: exact duplicates (JSON.parse and Go keep the last) or
      // case-folded ones, ſ (U+017F) folding to s (Go keeps the last; trustgate refuses the ambiguity). Either way, a
      // payload whose effective digest is another manifest's must deny.
      const ours = `"docker-manifest-digest":${JSON.stringify(subject.digest)}`;
      const theirs = `${JSON.stringify(m.key)}:${JSON.stringify(m.digest)}`;
      const image = m.otherLast ? `${ours},${theirs}` : `${theirs},${ours}`;
      const text = payload.toString().replace(ours, image);
      const conflicting = m.digest !== subject.digest;
      return resigned(Buffer.from(text), !conflicting ? 'any' : m.otherLast || m.key !== 'docker-manifest-digest' ? 'deny' : 'any');
    }
    case 'edits-resigned': {
      const edited = applyEdits(JSON.parse(payload.toString()), m.edits);
      const critical = (edited as { critical?: { image?: Record<string, unknown>; type?: unknown } } | null)?.critical;
      const keepsDigest = critical?.image?.['docker-manifest-digest'] === subject.digest && critical?.type === TYPE;
      return resigned(Buffer.from(jsonText(edited)), keepsDigest ? 'any' : 'deny');
    }
    case 'fold-duplicate-resigned': {
      // A second `critical` under a key Go's case folding matches: Go keeps the last;
      // trustgate refuses two that differ. One that differs from ours must never pass.
      const critical = jsonText((JSON.parse(payload.toString()) as { critical: unknown }).critical);
      const extra = `${JSON.stringify(m.key)}:${jsonText(m.value)}`;
      const text = m.first
        ? payload.toString().replace('{"critical":', `{${extra},"critical":`)
        : payload.toString().replace(',"optional":', `,${extra},"optional":`);
      // The exact key `critical` first is simply overridden by ours (JSON.parse and Go keep the last).
      const overridden = m.key === 'critical' && m.first;
      return resigned(Buffer.from(text), jsonText(m.value) === critical || overridden ? 'any' : 'deny');
    }
    case 'drop-signature':
      return { ...base, artifact: artifactOf(payload, undefined), expect: 'deny' };
    case 'media-type':
      return {
        ...base,
        artifact: artifactOf(payload, signature, {}, m.mediaType),
        expect: m.mediaType === SIMPLE_SIGNING ? 'allow' : 'deny',
      };
    case 'attacker-key': {
      const attacker = keys.attackers[m.attacker % keys.attackers.length]!;
      return { ...base, artifact: artifactOf(payload, sign(payload, attacker)), expect: 'deny' };
    }
    case 'untrusted-signer': {
      const others = { keys: keys.material.keys.filter((k) => k.id !== signer.id), roots: [], sigstoreRoots: [], tsaRoots: [] };
      return { ...base, keys: others, artifact: artifactOf(payload, signature), expect: 'deny' };
    }
    case 'ed25519ph': {
      const ed = keys.trusted.find((k) => k.id === 'ed25519')!;
      return { ...base, artifact: artifactOf(payload, sign(payload, ed, { ed25519ph: true })), expect: 'deny' };
    }
    case 'other-hash': {
      // Outside cosign's scheme table: P-256 over SHA-384, RSA PKCS#1 over SHA-512.
      const weird = keys.trusted.find((k) => k.id === (signer.id === 'rsa' ? 'rsa' : 'p256'))!;
      return {
        ...base,
        artifact: artifactOf(payload, sign(payload, weird, weird.id === 'rsa' ? { hash: 'sha512' } : { hash: 'sha384' })),
        expect: 'deny',
      };
    }
  }
}

// ---- sigstore bundles ----------------------------------------------------------------------

export type BundleMutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'edits'; readonly edits: readonly JsonEdit[] }
  | { readonly kind: 'flip-payload'; readonly flip: BitFlip }
  | { readonly kind: 'flip-signature'; readonly flip: BitFlip }
  | { readonly kind: 'statement-resigned'; readonly edits: readonly JsonEdit[] }
  | { readonly kind: 'payload-type-resigned'; readonly payloadType: string }
  | { readonly kind: 'other-digest-resigned'; readonly digest: string }
  | { readonly kind: 'certificate'; readonly der: Buffer }
  | { readonly kind: 'media-type'; readonly mediaType: string }
  | { readonly kind: 'attacker-key'; readonly attacker: number }
  | { readonly kind: 'other-subject'; readonly bytes: Buffer }
  | { readonly kind: 'both-forms' };

export const bundleMutation: fc.Arbitrary<BundleMutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('edits' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('flip-payload' as const), flip: bitFlip }),
  fc.record({ kind: fc.constant('flip-signature' as const), flip: bitFlip }),
  fc.record({ kind: fc.constant('statement-resigned' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('payload-type-resigned' as const),
    payloadType: fc.oneof(anyText, fc.constant('application/vnd.in-toto+JSON')),
  }),
  fc.record({ kind: fc.constant('other-digest-resigned' as const), digest: anyDigest }),
  fc.record({ kind: fc.constant('certificate' as const), der: anyBytes }),
  fc.record({
    kind: fc.constant('media-type' as const),
    mediaType: fc.oneof(
      anyText,
      fc.constantFrom('application/vnd.dev.sigstore.bundle+json;version=0.2', 'application/vnd.dev.sigstore.bundle.v0.1+json'),
    ),
  }),
  fc.record({ kind: fc.constant('attacker-key' as const), attacker: fc.nat() }),
  fc.record({
    kind: fc.constant('other-subject' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
  }),
  fc.constant({ kind: 'both-forms' as const }),
);

type Json = Record<string, any>; // parsed bundle JSON, edited freely
const IN_TOTO = 'application/vnd.in-toto+json';
/**
 * The bundle media types read (docs/wire-formats.md "Sigstore bundles"): v0.3 in both spellings, and
 * v0.1 and v0.2, parsed with @sigstore/bundle since keyless verification landed. A key bundle with no
 * log entries is the same signature in each (v0.1 needs a promise and v0.2 a proof only on entries it has).
 */
const BUNDLE_TYPES = [
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];

/**
 * Acceptance after arbitrary edits is only allowed when what was signed survived them: a media
 * type that is read (BUNDLE_TYPES), no certificate, and (DSSE) the same payload type and payload
 * bytes with one of the original signatures, or (message signature) the same signature over this manifest.
 */
function signedContentKept(original: Json, edited: unknown): boolean {
  if (typeof edited !== 'object' || edited === null) return false;
  const e = edited as Json;
  if (!BUNDLE_TYPES.includes(e['mediaType'])) return false;
  const material = e['verificationMaterial'];
  if (typeof material !== 'object' || material === null || material['certificate'] != null || material['x509CertificateChain'] != null)
    return false;
  const b64 = (v: unknown): Buffer | undefined => (typeof v === 'string' ? Buffer.from(v, 'base64') : undefined);
  if (original['dsseEnvelope'] !== undefined) {
    const env = e['dsseEnvelope'];
    if (typeof env !== 'object' || env === null || env['payloadType'] !== original['dsseEnvelope']['payloadType']) return false;
    if (!b64(env['payload'])?.equals(b64(original['dsseEnvelope']['payload'])!)) return false;
    const sigs: unknown[] = Array.isArray(env['signatures']) ? env['signatures'] : [];
    const wanted = b64(original['dsseEnvelope']['signatures'][0]['sig'])!;
    return sigs.some((s) => typeof s === 'object' && s !== null && b64((s as Json)['sig'])?.equals(wanted));
  }
  const message = e['messageSignature'];
  if (typeof message !== 'object' || message === null) return false;
  return b64(message['signature'])?.equals(b64(original['messageSignature']['signature'])!) ?? false;
}

export function bundleCase(
  keys: CosignKeys,
  signer: Signer,
  subject: Subject,
  dsse: boolean,
  m: BundleMutation,
): { bundle: Buffer; subject: Subject; expect: Case['expect'] } {
  const make = (s: Signer = signer, extra: Partial<Parameters<typeof makeSigstoreBundle>[0]> = {}): Json =>
    (dsse
      ? makeSigstoreBundle({ privateKey: s.privateKey, digest: subject.digest, ...s.options, ...extra })
      : makeMessageSignatureBundle({ privateKey: s.privateKey, manifest: subject.bytes, ...s.options, ...extra })) as Json;
  const original = make();
  const out = (json: unknown, expect: Case['expect'], s: Subject = subject) => ({
    bundle: Buffer.from(jsonText(json)),
    subject: s,
    expect,
  });
  const statement = (): Json => JSON.parse(Buffer.from(original['dsseEnvelope']['payload'], 'base64').toString()) as Json;
  switch (m.kind) {
    case 'none':
      return out(original, 'allow');
    case 'edits': {
      const edited = applyEdits(original, m.edits);
      return out(edited, signedContentKept(original, edited) ? 'any' : 'deny');
    }
    case 'flip-payload': {
      const copy = structuredClone(original);
      if (dsse)
        copy['dsseEnvelope']['payload'] = flipBit(Buffer.from(copy['dsseEnvelope']['payload'], 'base64'), m.flip).toString('base64');
      else
        copy['messageSignature']['messageDigest']['digest'] = flipBit(
          Buffer.from(copy['messageSignature']['messageDigest']['digest'], 'base64'),
          m.flip,
        ).toString('base64');
      return out(copy, 'deny');
    }
    case 'flip-signature': {
      const copy = structuredClone(original);
      const holder = dsse ? copy['dsseEnvelope']['signatures'][0] : copy['messageSignature'];
      const field = dsse ? 'sig' : 'signature';
      holder[field] = flipBit(Buffer.from(holder[field], 'base64'), m.flip).toString('base64');
      return out(copy, 'deny');
    }
    case 'statement-resigned': {
      if (!dsse) return out(original, 'allow');
      const edited = applyEdits(statement(), m.edits) as Json | null | undefined;
      const subjects: unknown = edited?.['subject'];
      const names = Array.isArray(subjects) && subjects.some((s) => (s as Json | null)?.['digest']?.['sha256'] === subject.digest.slice(7));
      const typed =
        edited?.['_type'] === 'https://in-toto.io/Statement/v1' && edited?.['predicateType'] === 'https://sigstore.dev/cosign/sign/v1';
      // Signed here rather than by the kit, whose JSON.stringify cannot take deeply nested statements.
      const payload = Buffer.from(jsonText(edited === undefined ? 0 : edited));
      const copy = structuredClone(original);
      copy['dsseEnvelope']['payload'] = payload.toString('base64');
      copy['dsseEnvelope']['signatures'] = [{ sig: signPayload(signer.privateKey, dssePae(IN_TOTO, payload), signer.options), keyid: '' }];
      return out(copy, names && typed ? 'any' : 'deny');
    }
    case 'payload-type-resigned':
      return out(
        make(signer, { payloadType: m.payloadType }),
        !dsse || m.payloadType === 'application/vnd.in-toto+json' ? 'allow' : 'deny',
      );
    case 'other-digest-resigned': {
      if (!dsse) return out(original, 'allow');
      return out(make(signer, { digest: m.digest }), m.digest === subject.digest ? 'allow' : 'deny');
    }
    case 'certificate':
      return out(make(signer, { certificate: m.der }), 'deny');
    case 'media-type':
      return out(make(signer, { mediaType: m.mediaType }), BUNDLE_TYPES.includes(m.mediaType) ? 'allow' : 'deny');
    case 'attacker-key':
      return out(make(keys.attackers[m.attacker % keys.attackers.length]!), 'deny');
    case 'other-subject': {
      const other = subjectOf(m.bytes);
      return out(original, other.digest === subject.digest ? 'allow' : 'deny', other);
    }
    case 'both-forms': {
      const message = makeMessageSignatureBundle({ privateKey: signer.privateKey, manifest: subject.bytes, ...signer.options }) as Json;
      const dsseForm = makeSigstoreBundle({ privateKey: signer.privateKey, digest: subject.digest, ...signer.options }) as Json;
      return out({ ...dsseForm, messageSignature: message['messageSignature'] }, 'deny');
    }
  }
}

function judge(expect: Case['expect'], finding: Parameters<typeof counts>[0], what: string): void {
  if (expect === 'deny') assertDenied(finding, what);
  if (expect === 'allow') assert.ok(counts(finding), `${what} should count: ${JSON.stringify(finding.failure)}`);
}

export const cosignTarget: FuzzTarget = {
  name: 'verify-cosign',
  async open() {
    const keys = sharedCosignKeys();
    const ids = keys.trusted.map((k) => k.id);
    const signer = fc.constantFrom(...keys.trusted);
    return {
      properties: [
        {
          name: 'simple signing: the valid signature counts; any mutation of bytes, signature, digest or key never does',
          property: fc.property(signer, subjectArb, cosignMutation, (s, subject, m) => {
            const c = cosignCase(keys, s, subject, m);
            const result = settle(() =>
              verifyCosignSignature(c.artifact, c.subject, { keys: c.keys.keys, roots: [], sigstoreRoots: [], tsaRoots: [] }, Date.now()),
            );
            assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
            assertFinding(result.value, 'cosign', ids);
            judge(c.expect, result.value, m.kind);
          }),
        },
        {
          name: 'simple signing: hostile payloads and annotations never throw and never count',
          property: fc.property(
            fc.oneof(
              anyBytes,
              jsonish.map((v) => Buffer.from(jsonText(v))),
              subjectArb.map((s) => makeSimpleSigningPayload(s.digest, REFERENCE)),
            ),
            fc.array(
              fc.tuple(
                fc.oneof(fc.constant(COSIGN_SIGNATURE_ANNOTATION), hostileKey),
                fc.oneof(
                  anyText,
                  anyBytes.map((b) => b.toString('base64')),
                ),
              ),
              { maxLength: 4 },
            ),
            fc.oneof(fc.constant(SIMPLE_SIGNING), anyText),
            subjectArb,
            (payload, annotations, mediaType, subject) => {
              const artifact: CosignSignature = {
                scheme: 'cosign',
                source: 'fuzz',
                mediaType,
                payload,
                annotations: objectOf(annotations) as Record<string, string>,
              };
              const result = settle(() => verifyCosignSignature(artifact, subject, keys.material, Date.now()));
              assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
              assertFinding(result.value, 'cosign', ids);
              assertDenied(result.value, 'an unsigned payload');
            },
          ),
        },
        {
          name: 'sigstore bundles (DSSE and message signature): valid counts; mutations of what was signed never do',
          property: fc.property(signer, subjectArb, fc.boolean(), bundleMutation, (s, subject, dsse, m) => {
            const c = bundleCase(keys, s, subject, dsse, m);
            const result = settle(() =>
              verifySigstoreBundle({ scheme: 'sigstore-bundle', source: 'fuzz', bundle: c.bundle }, c.subject, keys.material, Date.now()),
            );
            assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
            assertFinding(result.value, 'sigstore-bundle', ids);
            judge(c.expect, result.value, `${dsse ? 'dsse' : 'message'} ${m.kind}`);
          }),
        },
        {
          name: 'sigstore bundles: hostile JSON never throws and never counts',
          property: fc.property(
            fc.oneof(
              anyBytes,
              jsonish.map((v) => Buffer.from(jsonText(v))),
            ),
            subjectArb,
            (bundle, subject) => {
              const result = settle(() =>
                verifySigstoreBundle({ scheme: 'sigstore-bundle', source: 'fuzz', bundle }, subject, keys.material, Date.now()),
              );
              assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
              assertFinding(result.value, 'sigstore-bundle', ids);
              assertDenied(result.value, 'an unsigned bundle');
            },
          ),
        },
      ],
    };
  },
};
