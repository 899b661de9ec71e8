// The keyless oracle's material (test/fuzz/targets/keyless.ts): valid keyless signatures made with the
// offline sigstore kit (test/kit/sigstore-services.ts) under a trusted root it builds, attack fixtures
// an adversary could produce, the mutations, and for each mutation what must happen. Nothing here
// imports the verifier (only src/trust's root compiler, to hand it the kit's trusted_root.json): the
// expectations come from docs/keyless.md, docs/wire-formats.md, the sigstore specs and sigstore-js's
// behaviour, never from trustgate's code.
//
// Verdicts: 'deny' (must not count), 'allow' (must count), 'any' (the meaning is unchanged but the
// shape is odd; counting or not are both right). A mutation is only ever 'allow' or 'any' when it
// provably leaves what was signed, logged and timestamped as it was. The exceptions, and why:
//
// - inclusionProof.rootHash and inclusionProof.treeSize: sigstore-js (@sigstore/verify
//   tlog/merkle.js, checkpoint.js) recomputes the root from the leaf and the hashes and compares it
//   with the root hash and size of the signed checkpoint; the proof's own copies are never read.
// - checkpoint signature lines: the note (origin, size, root hash) is what the log signs. Lines
//   after it that are not a valid signature by a trusted log, and text between them, are ignored
//   (one verifying signature suffices, tlog/checkpoint.js `some`); the signer name is matched as a
//   pattern against the log's base URL, and the key hint and signature still have to verify.
// - an entry with no inclusion promise (proof only): nothing signs its integratedTime, its outer
//   logIndex (a sharded log's global index, not the tree index the proof uses) or its logId
//   (the checkpoint's key hint picks the log). sigstore-js takes no time from such an entry
//   (timestamp/index.js getTLogTimestamp), so these may change, but the signing time must then come
//   from the RFC 3161 timestamp, which the evidence check asserts.
// - the chain: intermediates carried by a signature are untrusted (docs/keyless.md "Verification"
//   2); under a root whose CA already lists the intermediate they carry nothing, so they may be
//   dropped, reordered, duplicated or broken. Under a root listing only the Fulcio root, the
//   intermediate is needed and a broken one must deny (unless only unsigned bytes changed).
// - base64 spellings of the same bytes, JSON whitespace and key order of cosign's bundle
//   annotation, unknown JSON members and annotations: the same bytes and fields.
// - the inclusion proof dropped while a valid SET remains (and the bundle relabelled v0.1, the
//   version whose entries need only a promise), or the RFC 3161 timestamp dropped while a valid SET
//   remains, or the whole entry dropped while a valid timestamp remains: what is left still proves a
//   signing time; the evidence check asserts that the finding then claims only what is left.
// - the cosign `dev.sigstore.cosign/rfc3161timestamp` annotation: not read (docs/keyless.md "cosign
//   annotations" names certificate, chain and bundle); the SET gives the time, so its value is moot.
// - DER bytes no signature covers (der-meaning.ts): the tags of a certificate's or token's outer
//   wrappers, the BIT STRING's unused-bits count, a token's certificates, signer identifier and
//   status. A changed certificate or token may count only if its TBS / TSTInfo, signed attributes
//   and signature value are byte for byte the original's.
// - the same entry or timestamp twice: nothing new is claimed (sigstore-js refuses duplicate
//   timestamps; counting or not are both right).
import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { compileSigstoreRoot } from '../../../src/trust/sigstore-root.ts';
import type { CosignSignature, SigstoreRoot, Subject, TrustMaterial } from '../../../src/verify/types.ts';
import { makeSimpleSigningPayload } from '../../kit/cosign-sign.ts';
import { pem } from '../../kit/sigstore-der.ts';
import { hashedRekordBody } from '../../kit/sigstore-rekor.ts';
import {
  COSIGN_ANNOTATIONS,
  createLocalSigstore,
  ecKeyPair,
  SIGSTORE_MT,
  type BundleJson,
  type KeylessOptions,
  type LocalSigstore,
  type TlogEntryJson,
} from '../../kit/sigstore-services.ts';
import { anyText, bitFlip, flipBit, hostileKey, jsonish, jsonText, objectOf, sha256, type BitFlip } from '../arbitraries.ts';
import { subjectOf } from './crypto-kit.ts';
import { certificateMeaning, timestampMeaning } from './der-meaning.ts';

/** Signing time of every base (whole seconds); the leaf is valid for 10 minutes from here. */
export const T = Date.parse('2025-06-01T12:00:00Z');
const LEAF_SECONDS = 600;
/** The evaluation time; for roots with logs it must not matter (docs/keyless.md "Verification" 1). */
export const NOW = Date.parse('2025-07-01T00:00:00Z');
export const LATER = Date.parse('2031-03-01T00:00:00Z');
export const SIGNER = 'signer@example.com';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const REFERENCE = 'registry.test/keyless/app:v1';
const READABLE = [
  SIGSTORE_MT.bundleV03,
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  SIGSTORE_MT.bundleV02,
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];
const V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

export type Verdict = 'deny' | 'allow' | 'any';
type TrustName = 'full' | 'root-only';

/** A signature made with the kit: a valid base, or an attack fixture that must be denied. */
export interface Signed {
  readonly name: string;
  readonly form: 'cosign' | 'bundle';
  readonly content: 'message' | 'dsse';
  readonly trust: TrustName;
  /** What the signature carries when built (mutations change the copy, never this). */
  readonly promise: boolean;
  readonly proof: boolean;
  readonly tsa: boolean;
  readonly chain: boolean;
  readonly bundle?: BundleJson;
  readonly cosign?: { readonly payload: Buffer; readonly annotations: Readonly<Record<string, string>> };
  /** Set for an attack fixture: why it must be denied. */
  readonly attack?: string;
}

export interface Material {
  readonly sigstore: LocalSigstore;
  readonly roots: Readonly<Record<TrustName, SigstoreRoot>>;
  readonly subject: Subject;
  readonly bases: readonly Signed[];
  readonly attacks: readonly Signed[];
  /** Another valid checkpoint of the same log (a later tree), for the "other checkpoint" mutation. */
  readonly otherCheckpoint: string;
  /** A leaf with another key, from the trusted CA. */
  readonly otherLeaf: Buffer;
}

export const trustOf = (m: Material, name: TrustName): TrustMaterial => ({
  keys: [],
  roots: [],
  sigstoreRoots: [m.roots[name]],
  tsaRoots: [],
});

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');
const pemDer = (text: string): Buffer[] =>
  [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => unb64(m[1]!.replace(/\s+/g, '')));

function statementFor(digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'registry.test/keyless/app', digest: { sha256: digest.slice(7) } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    }),
  );
}

const compile = (id: string, json: object): SigstoreRoot =>
  compileSigstoreRoot({
    id,
    kind: 'sigstore-root',
    pem: '',
    trustedRoot: JSON.stringify(json),
    scopes: ['**'],
    purposes: ['sign'],
    origin: 'file',
  });

export const ROOT_IDS = ['local', 'local-root-only'];

/** Everything the target needs, made once per process (keys, CAs, logs and signatures at open time). */
export function makeMaterial(): Material {
  const sigstore = createLocalSigstore();
  const roots = {
    full: compile('local', sigstore.trustedRoot()),
    // The CA entry lists only the Fulcio root: the intermediate must come from the signature.
    'root-only': compile('local-root-only', sigstore.trustedRoot({ ca: false, extraCAs: [{ chain: [sigstore.fulcio.root.cert] }] })),
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('keyless config'), size: 14 },
      layers: [],
    }),
  );
  const subject = subjectOf(manifest);
  const payload = makeSimpleSigningPayload(subject.digest, REFERENCE);
  const statement = statementFor(subject.digest);
  const time = new Date(T);
  const o = (extra: KeylessOptions = {}): KeylessOptions => ({ time, ...extra });

  const cosign = (name: string, extra: KeylessOptions, rest: Partial<Signed> = {}): Signed => {
    const s = sigstore.cosignKeylessSignature(payload, o(extra));
    return {
      name,
      form: 'cosign',
      content: 'message',
      trust: 'full',
      promise: extra.tlog !== false,
      proof: false,
      tsa: false,
      chain: true,
      cosign: { payload, annotations: s.annotations },
      ...rest,
    };
  };
  const bundle = (name: string, content: 'message' | 'dsse', extra: KeylessOptions, rest: Partial<Signed> = {}): Signed => {
    const json =
      content === 'message' ? sigstore.keylessMessageBundle(manifest, o(extra)) : sigstore.keylessDsseBundle(statement, o(extra));
    const entry = json.verificationMaterial.tlogEntries[0];
    return {
      name,
      form: 'bundle',
      content,
      trust: 'full',
      promise: entry?.inclusionPromise !== undefined,
      proof: entry?.inclusionProof !== undefined,
      tsa: json.verificationMaterial.timestampVerificationData !== undefined,
      chain: json.verificationMaterial.x509CertificateChain !== undefined,
      bundle: json,
      ...rest,
    };
  };

  const bases: Signed[] = [
    cosign('cosign .sig: certificate, chain, SET (SCT in the leaf)', {}),
    cosign(
      'cosign .sig under a root listing only the Fulcio root: the chain annotation supplies the intermediate',
      {},
      { trust: 'root-only' },
    ),
    bundle('v0.3 message signature: SET, inclusion proof and checkpoint, SCT', 'message', {}),
    bundle('v0.3 DSSE: SET, inclusion proof and checkpoint, SCT', 'dsse', {}),
    bundle('v0.3 message signature: SET, proof and an RFC 3161 timestamp', 'message', { tsa: true }),
    bundle('v0.3 DSSE: proof and an RFC 3161 timestamp, no SET', 'dsse', { tsa: true, tlog: { promise: false } }),
    bundle('v0.3 message signature: proof and an RFC 3161 timestamp, no SET', 'message', { tsa: true, tlog: { promise: false } }),
    bundle(
      'v0.2 message signature with x509CertificateChain, under a root listing only the Fulcio root',
      'message',
      { chainInBundle: true },
      {
        trust: 'root-only',
      },
    ),
  ];

  // ---- attack fixtures: what an adversary without the trusted keys can make ---------------------
  const untrusted = sigstore.untrusted;
  const otherKey = ecKeyPair();
  const otherLeaf = sigstore.fulcio.issueLeaf({ publicKey: otherKey.publicKey, email: 'other@example.com', notBefore: time });
  const attack = (why: string, s: Signed): Signed => ({ ...s, attack: why });
  const attacks: Signed[] = [
    attack('leaf from a CA the root does not list', bundle('rogue Fulcio (bundle)', 'message', { fulcio: untrusted.fulcio })),
    attack('leaf and chain from a CA the root does not list', cosign('rogue Fulcio (cosign)', { fulcio: untrusted.fulcio })),
    attack('entry in a log the root does not list', bundle('rogue Rekor (bundle)', 'message', { tlog: { log: untrusted.rekor } })),
    attack('entry in a log the root does not list', cosign('rogue Rekor (cosign)', { tlog: { log: untrusted.rekor } })),
    attack(
      'SET signed by another key under the log ID',
      bundle('forged SET (bundle)', 'message', { tlog: { setKey: otherKey.privateKey } }),
    ),
    attack('SET signed by another key under the log ID', cosign('forged SET (cosign)', { tlog: { setKey: otherKey.privateKey } })),
    attack(
      'checkpoint signed by another key (the SET is valid, but every proof present must verify)',
      bundle('forged checkpoint', 'message', { tlog: { checkpointKey: otherKey.privateKey } }),
    ),
    attack(
      'checkpoint signed by another key, no SET',
      bundle('forged checkpoint, timestamp', 'dsse', { tsa: true, tlog: { promise: false, checkpointKey: otherKey.privateKey } }),
    ),
    attack(
      'entry logs another signature',
      bundle('entry for another signature', 'message', { tlog: { loggedSignature: Buffer.alloc(70, 7) } }),
    ),
    attack(
      'entry logs another artifact digest',
      bundle('entry for another digest', 'message', { tlog: { loggedDigest: Buffer.alloc(32, 9) } }),
    ),
    attack(
      'entry names another certificate (another key)',
      bundle('entry names another signer (bundle)', 'message', { tlog: { loggedSigner: otherLeaf.pem } }),
    ),
    attack(
      'entry names another certificate (another key)',
      cosign('entry names another signer (cosign)', { tlog: { loggedSigner: otherLeaf.pem } }),
    ),
    attack('a message signature logged as a dsse entry', bundle('message logged as dsse', 'message', { tlog: { kind: 'dsse' } })),
    attack('a DSSE envelope logged as hashedrekord', bundle('DSSE logged as hashedrekord', 'dsse', { tlog: { kind: 'hashedrekord' } })),
    attack(
      'kindVersion claims another version than the body',
      bundle('kindVersion mismatch', 'message', { tlog: { kindVersion: { kind: 'hashedrekord', version: '0.0.2' } } }),
    ),
    attack('no SCT, and the root lists a CT log', bundle('no SCT', 'message', { leaf: { sct: false } })),
    attack('SCT from a CT log the root does not list', bundle('SCT from a rogue CT log', 'message', { leaf: { ctlog: untrusted.ctlog } })),
    attack(
      'logged before the leaf was valid',
      bundle('integrated before notBefore (bundle)', 'message', { tlog: { integratedTime: new Date(T - 60_000) } }),
    ),
    attack(
      'logged after the leaf expired',
      bundle('integrated after notAfter (bundle)', 'message', { tlog: { integratedTime: new Date(T + 660_000) } }),
    ),
    attack(
      'logged after the leaf expired',
      cosign('integrated after notAfter (cosign)', { tlog: { integratedTime: new Date(T + 660_000) } }),
    ),
    attack(
      'timestamped after the leaf expired, no SET',
      bundle('timestamp after notAfter', 'message', { tsa: { time: new Date(T + 660_000) }, tlog: { promise: false } }),
    ),
    attack(
      'timestamp by a TSA the root does not list, no SET',
      bundle('rogue TSA', 'message', { tsa: { tsa: untrusted.tsa }, tlog: { promise: false } }),
    ),
    attack(
      'timestamp over other bytes, no SET',
      bundle('timestamp over other bytes', 'dsse', { tsa: { over: Buffer.from('other') }, tlog: { promise: false } }),
    ),
    attack('no log entry and no timestamp: no trusted signing time', bundle('no time at all', 'message', { tlog: false })),
    attack(
      'Fulcio issuer extensions disagree',
      bundle('issuer extensions disagree', 'message', { leaf: { issuerExtensions: { v1: 'https://a.example', v2: 'https://b.example' } } }),
    ),
    ...identitySwaps(sigstore, bases),
    brokenIntermediate(sigstore, bases[1]!),
  ];

  const later = sigstore.keylessMessageBundle(manifest, o());
  return {
    sigstore,
    roots,
    subject,
    bases,
    attacks,
    otherCheckpoint: later.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint.envelope,
    otherLeaf: otherLeaf.der,
  };
}

/**
 * A certificate the trusted CA issued for the same key with another identity, presented with the
 * log entry of the original certificate; and an entry that names only the bare public key. The log
 * then never recorded the identity that is claimed (docs/keyless.md "Verification" 4: the entry must
 * name this signer, the same certificate; cosign `comparePublicKey` compares the certificate DER).
 */
function identitySwaps(sigstore: LocalSigstore, bases: readonly Signed[]): Signed[] {
  const out: Signed[] = [];
  for (const base of [bases[0]!, bases[2]!]) {
    const leafDer =
      base.form === 'cosign'
        ? pemDer(base.cosign!.annotations[COSIGN_ANNOTATIONS.certificate]!)[0]!
        : unb64(base.bundle!.verificationMaterial.certificate!.rawBytes);
    const leaf = new X509Certificate(leafDer);
    const reissued = sigstore.fulcio.issueLeaf({ publicKey: leaf.publicKey, email: 'attacker@example.com', notBefore: new Date(T) });
    if (base.form === 'cosign') {
      out.push({
        ...base,
        name: 'certificate re-issued for the same key, other identity (cosign)',
        attack: 'the entry names the original certificate, not the one presented',
        cosign: { ...base.cosign!, annotations: { ...base.cosign!.annotations, [COSIGN_ANNOTATIONS.certificate]: reissued.pem } },
      });
      continue;
    }
    const json = structuredClone(base.bundle!);
    json.verificationMaterial.certificate = { rawBytes: b64(reissued.der) };
    out.push({
      ...base,
      name: 'certificate re-issued for the same key, other identity (bundle)',
      attack: 'the entry names the original certificate, not the one presented',
      bundle: json,
    });
    // The same signature logged (validly, in the trusted log) under the bare public key.
    const signature = unb64(base.bundle!.messageSignature!.signature);
    const digest = unb64(base.bundle!.messageSignature!.messageDigest.digest);
    const publicPem = leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const logged = sigstore.append(hashedRekordBody(signature, publicPem, digest), new Date(T + 1000));
    const bare = structuredClone(base.bundle!);
    bare.verificationMaterial.tlogEntries = [entryJson(logged, bare.verificationMaterial.tlogEntries[0]!.kindVersion)];
    out.push({
      ...base,
      name: 'entry names the bare public key, not the certificate',
      attack: 'the log never recorded the certificate',
      bundle: bare,
    });
  }
  return out;
}

/**
 * The chain annotation's intermediate with its keyUsage extension broken (the BIT STRING inside
 * extnValue claims one byte more than it has), under the root that needs that intermediate: it can
 * extend no path, so the signature must be denied, and reading the extension must not throw.
 */
function brokenIntermediate(sigstore: LocalSigstore, base: Signed): Signed {
  const der = Buffer.from(sigstore.fulcio.intermediate.cert.der);
  const oid = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f])); // 2.5.29.15 keyUsage
  let at = oid + 5;
  if (der[at] === 0x01) at += 3; // critical BOOLEAN
  if (oid < 0 || der[at] !== 0x04 || der[at + 2] !== 0x03) throw new Error('kit intermediate: keyUsage not where expected');
  der[at + 3] = der[at + 3]! + 1;
  return {
    ...base,
    name: 'chain intermediate with a malformed keyUsage extension',
    attack: 'the intermediate the root needs is broken',
    cosign: {
      ...base.cosign!,
      annotations: { ...base.cosign!.annotations, [COSIGN_ANNOTATIONS.chain]: pem('CERTIFICATE', der) + sigstore.fulcio.root.cert.pem },
    },
  };
}

function entryJson(e: ReturnType<LocalSigstore['append']>, kindVersion: TlogEntryJson['kindVersion']): TlogEntryJson {
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: b64(e.logID) },
    kindVersion,
    integratedTime: String(e.integratedTime),
    inclusionPromise: { signedEntryTimestamp: b64(e.signedEntryTimestamp) },
    inclusionProof: {
      logIndex: String(e.inclusionProof.logIndex),
      rootHash: b64(e.inclusionProof.rootHash),
      treeSize: String(e.inclusionProof.treeSize),
      hashes: e.inclusionProof.hashes.map(b64),
      checkpoint: e.inclusionProof.checkpoint,
    },
    canonicalizedBody: b64(e.canonicalizedBody),
  };
}

// ---- mutations -----------------------------------------------------------------------------------

export type CheckpointOp =
  | { readonly op: 'note-char'; readonly index: number; readonly char: string }
  | { readonly op: 'sig-flip'; readonly flip: BitFlip }
  | { readonly op: 'key-hint'; readonly flip: BitFlip }
  | { readonly op: 'name'; readonly name: string }
  | { readonly op: 'junk'; readonly text: string }
  | { readonly op: 'extra-line'; readonly name: string; readonly bytes: Buffer }
  | { readonly op: 'drop-sig' }
  | { readonly op: 'size'; readonly delta: number }
  | { readonly op: 'root'; readonly flip: BitFlip }
  | { readonly op: 'other' };

export type TsaOp =
  | { readonly op: 'flip'; readonly flip: BitFlip }
  | { readonly op: 'drop' }
  | { readonly op: 'untrusted' }
  | { readonly op: 'over-other' }
  | { readonly op: 'time'; readonly offset: number }
  | { readonly op: 'duplicate' };

export type Mutation =
  | { readonly t: 'none' }
  | { readonly t: 'cert-flip'; readonly flip: BitFlip }
  | { readonly t: 'cert-rewrap'; readonly width: number }
  | { readonly t: 'cert-other-leaf' }
  | { readonly t: 'chain'; readonly op: 'drop' | 'reorder' | 'duplicate' | 'rogue' }
  | { readonly t: 'chain-flip'; readonly index: number; readonly flip: BitFlip }
  | { readonly t: 'chain-junk'; readonly text: string }
  | { readonly t: 'set-flip'; readonly flip: BitFlip }
  | { readonly t: 'set-field'; readonly field: 'integratedTime' | 'logIndex'; readonly delta: number }
  | { readonly t: 'log-id'; readonly untrusted: boolean; readonly flip: BitFlip }
  | { readonly t: 'kind-version'; readonly kind: string; readonly version: string }
  | { readonly t: 'body-flip'; readonly flip: BitFlip }
  | { readonly t: 'body-base64'; readonly urlSafe: boolean }
  | { readonly t: 'set-reformat'; readonly spaces: number }
  | { readonly t: 'set-extra'; readonly payload: boolean; readonly key: string; readonly value: unknown }
  | { readonly t: 'drop-set' }
  | { readonly t: 'drop-proof'; readonly relabel: boolean }
  | { readonly t: 'drop-entry' }
  | { readonly t: 'duplicate-entry' }
  | { readonly t: 'refresh-proof' }
  | {
      readonly t: 'proof-hashes';
      readonly op: 'flip' | 'drop' | 'add' | 'swap' | 'replace';
      readonly index: number;
      readonly flip: BitFlip;
    }
  | { readonly t: 'proof-index'; readonly delta: number }
  | { readonly t: 'proof-root-hash'; readonly flip: BitFlip }
  | { readonly t: 'proof-tree-size'; readonly delta: number }
  | { readonly t: 'checkpoint'; readonly c: CheckpointOp }
  | { readonly t: 'tsa'; readonly s: TsaOp }
  | { readonly t: 'tsa-add'; readonly offset: number }
  | { readonly t: 'cosign-tsa-annotation'; readonly valid: boolean; readonly bytes: Buffer }
  | { readonly t: 'sig-flip'; readonly flip: BitFlip }
  | { readonly t: 'sig-text'; readonly index: number; readonly char: string }
  | { readonly t: 'digest-flip'; readonly flip: BitFlip }
  | { readonly t: 'digest-algorithm'; readonly algorithm: string }
  | { readonly t: 'dsse-payload-flip'; readonly flip: BitFlip }
  | { readonly t: 'dsse-payload-type'; readonly payloadType: string }
  | { readonly t: 'payload-flip'; readonly flip: BitFlip }
  | { readonly t: 'other-subject'; readonly bytes: Buffer }
  | { readonly t: 'extra-annotation'; readonly key: string; readonly value: string }
  | { readonly t: 'extra-field'; readonly key: string; readonly value: unknown }
  | { readonly t: 'media-type'; readonly mediaType: string };

const nonZero = (max: number) => fc.integer({ min: -max, max }).filter((d) => d !== 0);
const someBytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b));
const oneChar = fc.string({ minLength: 1, maxLength: 1, unit: 'binary-ascii' });
const COSIGN_RESERVED = (key: string): boolean => key.startsWith('dev.sigstore.cosign/') || key.startsWith('dev.cosignproject.cosign/');
const BUNDLE_FIELDS = ['mediaType', 'verificationMaterial', 'dsseEnvelope', 'messageSignature'];
const SET_FIELDS = ['SignedEntryTimestamp', 'Payload', 'body', 'integratedTime', 'logIndex', 'logID'];

const checkpointOp: fc.Arbitrary<CheckpointOp> = fc.oneof(
  fc.record({ op: fc.constant('note-char' as const), index: fc.nat(), char: oneChar }),
  fc.record({ op: fc.constant('sig-flip' as const), flip: bitFlip }),
  fc.record({ op: fc.constant('key-hint' as const), flip: bitFlip }),
  fc.record({
    op: fc.constant('name' as const),
    name: fc.oneof(
      fc.constantFrom('rekor', '.*', 'REKOR.LOCAL', 'rekor\\.local', 'rogue-rekor.local', '(', 'https://rekor.local', 'x'),
      anyText,
    ),
  }),
  fc.record({ op: fc.constant('junk' as const), text: anyText }),
  fc.record({
    op: fc.constant('extra-line' as const),
    name: fc.constantFrom('rekor.local', 'witness.example', '.*'),
    bytes: someBytes(0, 80),
  }),
  fc.constant({ op: 'drop-sig' as const }),
  fc.record({ op: fc.constant('size' as const), delta: nonZero(1000) }),
  fc.record({ op: fc.constant('root' as const), flip: bitFlip }),
  fc.constant({ op: 'other' as const }),
);

const tsaOp: fc.Arbitrary<TsaOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), flip: bitFlip }),
  fc.constant({ op: 'drop' as const }),
  fc.constant({ op: 'untrusted' as const }),
  fc.constant({ op: 'over-other' as const }),
  fc.record({ op: fc.constant('time' as const), offset: tsaOffset() }),
  fc.constant({ op: 'duplicate' as const }),
);

function tsaOffset(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(-1, 0, 1, 2, LEAF_SECONDS - 1, LEAF_SECONDS, LEAF_SECONDS + 1, LEAF_SECONDS + 2),
    fc.integer({ min: -3600, max: 3600 }),
  );
}

/** Mutations that change a field: each either denies or is one of the documented exceptions. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ t: 'none' as const }) },
  fc.record({ t: fc.constant('cert-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('cert-rewrap' as const), width: fc.integer({ min: 4, max: 100 }) }),
  fc.constant({ t: 'cert-other-leaf' as const }),
  fc.record({
    t: fc.constant('chain' as const),
    op: fc.constantFrom('drop' as const, 'reorder' as const, 'duplicate' as const, 'rogue' as const),
  }),
  fc.record({ t: fc.constant('chain-flip' as const), index: fc.nat(), flip: bitFlip }),
  fc.record({ t: fc.constant('chain-junk' as const), text: anyText }),
  fc.record({ t: fc.constant('set-flip' as const), flip: bitFlip }),
  fc.record({
    t: fc.constant('set-field' as const),
    field: fc.constantFrom('integratedTime' as const, 'logIndex' as const),
    delta: nonZero(10_000_000),
  }),
  fc.record({ t: fc.constant('log-id' as const), untrusted: fc.boolean(), flip: bitFlip }),
  fc.record({
    t: fc.constant('kind-version' as const),
    kind: fc.constantFrom('hashedrekord', 'dsse', 'intoto', 'rekord', 'HashedRekord'),
    version: fc.constantFrom('0.0.1', '0.0.2', '0.1.0', ''),
  }),
  fc.record({ t: fc.constant('body-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('body-base64' as const), urlSafe: fc.boolean() }),
  fc.record({ t: fc.constant('set-reformat' as const), spaces: fc.integer({ min: 0, max: 4 }) }),
  fc.record({
    t: fc.constant('set-extra' as const),
    payload: fc.boolean(),
    key: hostileKey.filter((k) => !SET_FIELDS.includes(k)),
    value: jsonish,
  }),
  fc.constant({ t: 'drop-set' as const }),
  fc.record({ t: fc.constant('drop-proof' as const), relabel: fc.boolean() }),
  fc.constant({ t: 'drop-entry' as const }),
  fc.constant({ t: 'duplicate-entry' as const }),
  fc.constant({ t: 'refresh-proof' as const }),
  fc.record({
    t: fc.constant('proof-hashes' as const),
    op: fc.constantFrom('flip' as const, 'drop' as const, 'add' as const, 'swap' as const, 'replace' as const),
    index: fc.nat(),
    flip: bitFlip,
  }),
  fc.record({ t: fc.constant('proof-index' as const), delta: nonZero(300) }),
  fc.record({ t: fc.constant('proof-root-hash' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('proof-tree-size' as const), delta: nonZero(1_000_000) }),
  { weight: 3, arbitrary: fc.record({ t: fc.constant('checkpoint' as const), c: checkpointOp }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tsa' as const), s: tsaOp }) },
  fc.record({ t: fc.constant('tsa-add' as const), offset: tsaOffset() }),
  fc.record({ t: fc.constant('cosign-tsa-annotation' as const), valid: fc.boolean(), bytes: someBytes(0, 60) }),
  fc.record({ t: fc.constant('sig-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('sig-text' as const), index: fc.nat(), char: oneChar }),
  fc.record({ t: fc.constant('digest-flip' as const), flip: bitFlip }),
  fc.record({
    t: fc.constant('digest-algorithm' as const),
    algorithm: fc.constantFrom('SHA2_256', 'SHA2_384', 'SHA2_512', 'SHA3_256', 'HASH_ALGORITHM_UNSPECIFIED', 'sha256'),
  }),
  fc.record({ t: fc.constant('dsse-payload-flip' as const), flip: bitFlip }),
  fc.record({
    t: fc.constant('dsse-payload-type' as const),
    payloadType: fc.oneof(fc.constantFrom(SIGSTORE_MT.inToto, 'application/vnd.in-toto+JSON', 'application/json'), anyText),
  }),
  fc.record({ t: fc.constant('payload-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('other-subject' as const), bytes: someBytes(1, 40) }),
  fc.record({ t: fc.constant('extra-annotation' as const), key: hostileKey.filter((k) => !COSIGN_RESERVED(k)), value: anyText }),
  fc.record({ t: fc.constant('extra-field' as const), key: hostileKey.filter((k) => !BUNDLE_FIELDS.includes(k)), value: jsonish }),
  fc.record({
    t: fc.constant('media-type' as const),
    mediaType: fc.oneof(
      fc.constantFrom(...READABLE, 'application/vnd.dev.sigstore.bundle.v0.1+json', 'application/vnd.dev.sigstore.bundle+json;version=0.4'),
      anyText,
    ),
  }),
);

/** Changes that every oracle above calls meaning-preserving (no removal, no replacement of what another mutation may have broken). */
export const tweak: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ t: fc.constant('proof-root-hash' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('proof-tree-size' as const), delta: nonZero(1_000_000) }),
  fc.record({
    t: fc.constant('checkpoint' as const),
    c: fc.oneof(
      fc.record({ op: fc.constant('name' as const), name: fc.constantFrom('rekor', '.*', 'rekor\\.local', 'https://rekor.local') }),
      fc.record({ op: fc.constant('junk' as const), text: anyText }),
      fc.record({
        op: fc.constant('extra-line' as const),
        name: fc.constantFrom('rekor.local', 'witness.example'),
        bytes: someBytes(5, 80),
      }),
    ),
  }),
  fc.record({ t: fc.constant('chain' as const), op: fc.constantFrom('reorder' as const, 'duplicate' as const) }),
  fc.record({ t: fc.constant('chain-junk' as const), text: anyText }),
  fc.record({ t: fc.constant('cert-rewrap' as const), width: fc.integer({ min: 4, max: 100 }) }),
  fc.record({ t: fc.constant('body-base64' as const), urlSafe: fc.boolean() }),
  fc.record({ t: fc.constant('set-reformat' as const), spaces: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ t: fc.constant('set-extra' as const), payload: fc.boolean(), key: fc.constantFrom('note', 'x'), value: jsonish }),
  fc.record({ t: fc.constant('extra-annotation' as const), key: fc.constantFrom('org.example/x', 'note'), value: anyText }),
  fc.record({ t: fc.constant('extra-field' as const), key: fc.constantFrom('note', 'x'), value: jsonish }),
  fc.record({ t: fc.constant('cosign-tsa-annotation' as const), valid: fc.boolean(), bytes: someBytes(0, 60) }),
  fc.constant({ t: 'tsa' as const, s: { op: 'duplicate' as const } }),
);

/** Mutations that each break something signed, logged or timestamped (where they apply). */
export const breaking: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ t: fc.constant('cert-flip' as const), flip: bitFlip }),
  fc.constant({ t: 'cert-other-leaf' as const }),
  fc.record({ t: fc.constant('set-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('body-flip' as const), flip: bitFlip }),
  fc.record({
    t: fc.constant('proof-hashes' as const),
    op: fc.constantFrom('flip' as const, 'drop' as const, 'add' as const, 'replace' as const),
    index: fc.nat(),
    flip: bitFlip,
  }),
  fc.record({ t: fc.constant('proof-index' as const), delta: nonZero(300) }),
  fc.record({
    t: fc.constant('checkpoint' as const),
    c: fc.oneof(
      fc.record({ op: fc.constant('sig-flip' as const), flip: bitFlip }),
      fc.record({ op: fc.constant('size' as const), delta: nonZero(1000) }),
      fc.record({ op: fc.constant('root' as const), flip: bitFlip }),
      fc.constant({ op: 'other' as const }),
    ),
  }),
  fc.record({
    t: fc.constant('tsa' as const),
    s: fc.oneof(fc.record({ op: fc.constant('flip' as const), flip: bitFlip }), fc.constant({ op: 'untrusted' as const })),
  }),
  fc.record({ t: fc.constant('sig-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('digest-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('dsse-payload-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('payload-flip' as const), flip: bitFlip }),
  fc.record({ t: fc.constant('other-subject' as const), bytes: someBytes(1, 40) }),
  fc.record({
    t: fc.constant('set-field' as const),
    field: fc.constantFrom('integratedTime' as const, 'logIndex' as const),
    delta: nonZero(10_000_000),
  }),
  fc.record({ t: fc.constant('chain' as const), op: fc.constantFrom('drop' as const, 'rogue' as const) }),
);

/** Whether `m` has something to change in `s` (a message bundle has no DSSE payload, cosign's annotation form no proof…). */
export function applies(s: Signed, m: Mutation): boolean {
  const bundle = s.form === 'bundle';
  switch (m.t) {
    case 'none':
    case 'cert-flip':
    case 'cert-other-leaf':
    case 'sig-flip':
    case 'other-subject':
      return true;
    case 'cert-rewrap':
    case 'extra-annotation':
    case 'sig-text':
    case 'payload-flip':
    case 'cosign-tsa-annotation':
      return !bundle;
    case 'set-reformat':
    case 'set-extra':
      return !bundle && s.promise;
    case 'chain':
    case 'chain-flip':
    case 'chain-junk':
      return s.chain && (bundle ? m.t !== 'chain-junk' : true);
    case 'set-flip':
    case 'drop-set':
      return s.promise;
    case 'set-field':
    case 'log-id':
    case 'body-flip':
    case 'body-base64':
      return s.promise || s.proof;
    case 'kind-version':
    case 'drop-entry':
    case 'duplicate-entry':
      return bundle && (s.promise || s.proof);
    case 'drop-proof':
    case 'refresh-proof':
    case 'proof-hashes':
    case 'proof-index':
    case 'proof-root-hash':
    case 'proof-tree-size':
    case 'checkpoint':
      return bundle && s.proof;
    case 'tsa':
      return bundle && s.tsa;
    case 'tsa-add':
      return bundle && !s.tsa;
    case 'digest-flip':
    case 'digest-algorithm':
      return bundle && s.content === 'message';
    case 'dsse-payload-flip':
    case 'dsse-payload-type':
      return bundle && s.content === 'dsse';
    case 'extra-field':
    case 'media-type':
      return bundle;
  }
}

// ---- the draft: a copy being mutated, and what the oracle knows about it --------------------------

export interface Draft {
  readonly signed: Signed;
  readonly trust: TrustName;
  subject: Subject;
  bundle?: BundleJson;
  annotations?: Record<string, string>;
  payload?: Buffer;
  /** What the oracle says, mutation by mutation (a single deny decides). */
  readonly verdicts: { readonly verdict: Verdict; readonly why: string }[];
  /** What is left that can prove a signing time, and what the finding may claim. */
  promise: boolean;
  proof: boolean;
  entries: number;
  tsa: boolean;
  tsaAt: number | undefined;
}

export function draftOf(s: Signed, subject: Subject): Draft {
  return {
    signed: s,
    trust: s.trust,
    subject,
    ...(s.bundle === undefined ? {} : { bundle: structuredClone(s.bundle) }),
    ...(s.cosign === undefined ? {} : { annotations: { ...s.cosign.annotations }, payload: Buffer.from(s.cosign.payload) }),
    verdicts: s.attack === undefined ? [] : [{ verdict: 'deny', why: `attack: ${s.attack}` }],
    promise: s.promise,
    proof: s.proof,
    entries: s.promise || s.proof ? 1 : 0,
    tsa: s.tsa,
    tsaAt: s.tsa ? T + 1000 : undefined,
  };
}

export function verdictOf(d: Draft): Verdict {
  if (d.verdicts.some((v) => v.verdict === 'deny')) return 'deny';
  return d.verdicts.some((v) => v.verdict === 'any') ? 'any' : 'allow';
}

const say = (d: Draft, verdict: Verdict, why: string): void => void d.verdicts.push({ verdict, why });

const entry = (d: Draft): TlogEntryJson => d.bundle!.verificationMaterial.tlogEntries[0]!;
type RekorBundle = {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string } & Record<string, unknown>;
};
const setOf = (d: Draft): RekorBundle => JSON.parse(d.annotations![COSIGN_ANNOTATIONS.bundle]!) as RekorBundle;
const writeSet = (d: Draft, value: unknown, spaces = 0): void => {
  d.annotations![COSIGN_ANNOTATIONS.bundle] = JSON.stringify(value, null, spaces);
};

function leafOf(d: Draft): Buffer {
  if (d.annotations !== undefined) return pemDer(d.annotations[COSIGN_ANNOTATIONS.certificate]!)[0]!;
  const material = d.bundle!.verificationMaterial;
  return unb64(material.certificate?.rawBytes ?? material.x509CertificateChain!.certificates[0]!.rawBytes);
}

function setLeaf(d: Draft, der: Buffer, width = 64): void {
  if (d.annotations !== undefined) {
    const body = der.toString('base64').replace(new RegExp(`.{1,${width}}`, 'g'), '$&\n');
    d.annotations[COSIGN_ANNOTATIONS.certificate] = `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
    return;
  }
  const material = d.bundle!.verificationMaterial;
  if (material.certificate !== undefined) material.certificate = { rawBytes: b64(der) };
  else material.x509CertificateChain!.certificates[0] = { rawBytes: b64(der) };
}

function chainOf(d: Draft): Buffer[] {
  if (d.annotations !== undefined) return pemDer(d.annotations[COSIGN_ANNOTATIONS.chain] ?? '');
  return d.bundle!.verificationMaterial.x509CertificateChain!.certificates.slice(1).map((c) => unb64(c.rawBytes));
}

function setChain(d: Draft, certs: readonly Buffer[] | undefined): void {
  if (d.annotations !== undefined) {
    if (certs === undefined) delete d.annotations[COSIGN_ANNOTATIONS.chain];
    else d.annotations[COSIGN_ANNOTATIONS.chain] = certs.map((c) => pem('CERTIFICATE', c)).join('');
    return;
  }
  const chain = d.bundle!.verificationMaterial.x509CertificateChain!;
  chain.certificates = [chain.certificates[0]!, ...(certs ?? []).map((c) => ({ rawBytes: b64(c) }))];
}

function signatureOf(d: Draft): Buffer {
  if (d.annotations !== undefined) return unb64(d.annotations[COSIGN_ANNOTATIONS.signature]!);
  return unb64(d.bundle!.messageSignature?.signature ?? d.bundle!.dsseEnvelope!.signatures[0]!.sig);
}

function setSignature(d: Draft, sig: Buffer): void {
  if (d.annotations !== undefined) d.annotations[COSIGN_ANNOTATIONS.signature] = b64(sig);
  else if (d.bundle!.messageSignature !== undefined) d.bundle!.messageSignature.signature = b64(sig);
  else d.bundle!.dsseEnvelope!.signatures[0]!.sig = b64(sig);
}

const tokens = (d: Draft): { signedTimestamp: string }[] =>
  d.bundle!.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
const setTokens = (d: Draft, list: readonly Buffer[]): void => {
  if (list.length === 0) delete d.bundle!.verificationMaterial.timestampVerificationData;
  else d.bundle!.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: list.map((t) => ({ signedTimestamp: b64(t) })) };
};

/** A leaf-validity verdict for a time `offset` seconds after notBefore: inside, at a boundary (either), or outside. */
function withinLeaf(offset: number): Verdict {
  if (offset >= 2 && offset <= LEAF_SECONDS - 2) return 'allow';
  if (offset <= -2 || offset >= LEAF_SECONDS + 2) return 'deny';
  return 'any';
}

const flipText = (text: string, flip: BitFlip): string => b64(flipBit(unb64(text), flip));

/** Applies `m` to the draft and records what the oracle says about it. */
export function apply(m: Material, d: Draft, mu: Mutation): void {
  const bundle = d.bundle;
  switch (mu.t) {
    case 'none':
      return;
    case 'cert-flip': {
      const before = leafOf(d);
      const after = flipBit(before, mu.flip);
      setLeaf(d, after);
      const kept = certificateMeaning(after) !== undefined && certificateMeaning(after) === certificateMeaning(before);
      return say(d, kept ? 'any' : 'deny', kept ? 'certificate bytes outside TBS and signature changed' : 'certificate changed');
    }
    case 'cert-rewrap':
      setLeaf(d, leafOf(d), mu.width);
      return say(d, 'allow', 'the same certificate, PEM wrapped at another width');
    case 'cert-other-leaf':
      setLeaf(d, m.otherLeaf);
      return say(d, 'deny', 'a certificate for another key');
    case 'chain': {
      const chain = chainOf(d);
      const rootOnly = d.trust === 'root-only';
      if (mu.op === 'drop') {
        setChain(d, bundle === undefined ? undefined : []);
        return say(d, rootOnly ? 'deny' : 'allow', rootOnly ? 'the intermediate is gone' : 'the root lists the intermediate itself');
      }
      if (mu.op === 'rogue') {
        setChain(d, [m.sigstore.untrusted.fulcio.intermediate.cert.der, m.sigstore.untrusted.fulcio.root.cert.der]);
        return say(d, rootOnly ? 'deny' : 'any', 'the chain is another CA’s');
      }
      setChain(d, mu.op === 'reorder' ? [...chain].reverse() : [...chain, ...chain]);
      return say(d, 'any', `chain ${mu.op}`);
    }
    case 'chain-flip': {
      const chain = chainOf(d);
      if (chain.length === 0) return say(d, 'any', 'no chain to flip');
      const i = mu.index % chain.length;
      const flipped = flipBit(chain[i]!, mu.flip);
      setChain(
        d,
        chain.map((c, j) => (j === i ? flipped : c)),
      );
      // Only the intermediate matters, and only under a root that does not list it.
      const intermediate = chain[i]!.equals(m.sigstore.fulcio.intermediate.cert.der);
      const kept = certificateMeaning(flipped) !== undefined && certificateMeaning(flipped) === certificateMeaning(chain[i]!);
      return say(d, d.trust === 'root-only' && intermediate && !kept ? 'deny' : 'any', 'chain certificate changed');
    }
    case 'chain-junk':
      d.annotations![COSIGN_ANNOTATIONS.chain] = (d.annotations![COSIGN_ANNOTATIONS.chain] ?? '') + mu.text;
      return say(d, 'any', 'text after the chain: no certificate block, or an unverifiable one');
    case 'set-flip':
      if (bundle !== undefined) {
        const promise = entry(d).inclusionPromise!;
        promise.signedEntryTimestamp = flipText(promise.signedEntryTimestamp, mu.flip);
      } else {
        const set = setOf(d);
        set.SignedEntryTimestamp = flipText(set.SignedEntryTimestamp, mu.flip);
        writeSet(d, set);
      }
      return say(d, 'deny', 'SET bytes changed');
    case 'set-field': {
      if (bundle !== undefined) {
        const e = entry(d);
        e[mu.field] = String(Number(e[mu.field]) + mu.delta);
      } else {
        const set = setOf(d);
        set.Payload[mu.field] += mu.delta;
        writeSet(d, set);
      }
      return say(
        d,
        d.promise ? 'deny' : 'any',
        d.promise ? `${mu.field} is signed by the SET` : `${mu.field} of a proof-only entry is signed by nothing`,
      );
    }
    case 'log-id': {
      const other = m.sigstore.untrusted.rekor.logID;
      if (bundle !== undefined) {
        const e = entry(d);
        e.logId = { keyId: mu.untrusted ? b64(other) : flipText(e.logId.keyId, mu.flip) };
      } else {
        const set = setOf(d);
        set.Payload.logID = mu.untrusted ? other.toString('hex') : flipBit(Buffer.from(set.Payload.logID, 'hex'), mu.flip).toString('hex');
        writeSet(d, set);
      }
      return say(
        d,
        d.promise ? 'deny' : 'any',
        d.promise ? 'the log ID is signed by the SET' : 'a proof-only entry’s logId is read by nothing',
      );
    }
    case 'kind-version': {
      const e = entry(d);
      const same = e.kindVersion.kind === mu.kind && e.kindVersion.version === mu.version;
      e.kindVersion = { kind: mu.kind, version: mu.version };
      return say(d, same ? 'allow' : 'deny', 'kindVersion must match the body');
    }
    case 'body-flip':
      if (bundle !== undefined) entry(d).canonicalizedBody = flipText(entry(d).canonicalizedBody, mu.flip);
      else {
        const set = setOf(d);
        set.Payload.body = flipText(set.Payload.body, mu.flip);
        writeSet(d, set);
      }
      return say(d, 'deny', 'the logged body is covered by the SET and the proof');
    case 'body-base64': {
      const respell = (text: string): string => {
        const plain = unb64(text).toString('base64');
        return mu.urlSafe ? plain.replace(/\+/g, '-').replace(/\//g, '_') : plain.replace(/=+$/, '');
      };
      if (bundle !== undefined) entry(d).canonicalizedBody = respell(entry(d).canonicalizedBody);
      else {
        const set = setOf(d);
        set.Payload.body = respell(set.Payload.body);
        writeSet(d, set);
      }
      return say(d, 'any', 'the same body bytes in another base64 spelling');
    }
    case 'set-reformat':
      writeSet(d, setOf(d), mu.spaces);
      return say(d, 'allow', 'the same RekorBundle JSON, other whitespace');
    case 'set-extra': {
      const set = setOf(d) as unknown as Record<string, unknown> & RekorBundle;
      if (mu.payload) set.Payload = objectOf([...Object.entries(set.Payload), [mu.key, mu.value]]) as RekorBundle['Payload'];
      else Object.defineProperty(set, mu.key, { value: mu.value, enumerable: true, writable: true, configurable: true });
      d.annotations![COSIGN_ANNOTATIONS.bundle] = jsonText(set);
      return say(d, 'allow', 'an unknown member in the RekorBundle JSON');
    }
    case 'drop-set':
      if (bundle !== undefined) {
        delete entry(d).inclusionPromise;
        d.promise = false;
        return say(
          d,
          d.tsa ? 'allow' : 'deny',
          d.tsa ? 'the proof remains, the timestamp gives the time' : 'no trusted signing time is left',
        );
      }
      delete d.annotations![COSIGN_ANNOTATIONS.bundle];
      d.promise = false;
      d.entries = 0;
      return say(d, 'deny', 'no trusted signing time is left');
    case 'drop-proof': {
      delete entry(d).inclusionProof;
      d.proof = false;
      if (mu.relabel) bundle!.mediaType = V01;
      if (!d.promise) return say(d, 'deny', 'an entry with neither promise nor proof');
      return say(
        d,
        mu.relabel ? 'allow' : 'any',
        mu.relabel ? 'v0.1: a valid SET suffices' : 'v0.2 and v0.3 require a proof (@sigstore/bundle)',
      );
    }
    case 'drop-entry':
      bundle!.verificationMaterial.tlogEntries = [];
      d.promise = false;
      d.proof = false;
      d.entries = 0;
      return say(
        d,
        d.tsa ? 'allow' : 'deny',
        d.tsa ? 'the timestamp still gives the time; no log entry is claimed' : 'no trusted signing time is left',
      );
    case 'duplicate-entry':
      bundle!.verificationMaterial.tlogEntries.push(structuredClone(entry(d)));
      d.entries = 2;
      return say(d, 'any', 'the same entry twice');
    case 'refresh-proof': {
      const e = entry(d);
      const proof = m.sigstore.rekor.proof(Number(e.inclusionProof!.logIndex));
      e.inclusionProof = {
        logIndex: String(proof.logIndex),
        rootHash: b64(proof.rootHash),
        treeSize: String(proof.treeSize),
        hashes: proof.hashes.map(b64),
        checkpoint: proof.checkpoint,
      };
      return say(d, 'allow', 'a fresh proof against the grown log proves the same inclusion');
    }
    case 'proof-hashes': {
      const hashes = entry(d).inclusionProof!.hashes;
      const i = mu.index % Math.max(1, hashes.length);
      if (mu.op === 'flip') hashes[i] = flipText(hashes[i]!, mu.flip);
      if (mu.op === 'drop') hashes.splice(i, 1);
      if (mu.op === 'add') hashes.splice(i, 0, b64(flipBit(Buffer.alloc(32), mu.flip)));
      if (mu.op === 'replace') hashes[i] = b64(createHash('sha256').update(String(mu.flip.index)).digest());
      if (mu.op === 'swap') {
        const j = (i + 1 + (mu.flip.index % Math.max(1, hashes.length - 1))) % hashes.length;
        [hashes[i], hashes[j]] = [hashes[j]!, hashes[i]!];
        if (i === j) return say(d, 'allow', 'nothing swapped');
      }
      return say(d, 'deny', `proof hashes ${mu.op}`);
    }
    case 'proof-index': {
      const proof = entry(d).inclusionProof!;
      proof.logIndex = String(Number(proof.logIndex) + mu.delta);
      return say(d, 'deny', 'the proof is for another leaf position');
    }
    case 'proof-root-hash': {
      const proof = entry(d).inclusionProof!;
      proof.rootHash = flipText(proof.rootHash, mu.flip);
      return say(d, 'any', 'inclusionProof.rootHash is not read: the checkpoint’s root is');
    }
    case 'proof-tree-size': {
      const proof = entry(d).inclusionProof!;
      proof.treeSize = String(Number(proof.treeSize) + mu.delta);
      return say(d, 'any', 'inclusionProof.treeSize is not read: the checkpoint’s size is');
    }
    case 'checkpoint':
      return checkpoint(m, d, mu.c);
    case 'tsa':
      return timestamp(m, d, mu.s);
    case 'tsa-add': {
      setTokens(d, [m.sigstore.tsa.timestamp(signatureOf(d), new Date(T + mu.offset * 1000))]);
      d.tsa = true;
      d.tsaAt = T + mu.offset * 1000;
      return say(d, withinLeaf(mu.offset), 'a timestamp by the trusted TSA');
    }
    case 'cosign-tsa-annotation': {
      const token = mu.valid ? m.sigstore.tsa.timestamp(signatureOf(d), new Date(T + 1000)) : mu.bytes;
      d.annotations![COSIGN_ANNOTATIONS.rfc3161Timestamp] = JSON.stringify({ SignedRFC3161Timestamp: b64(token) });
      return say(d, 'any', 'the rfc3161timestamp annotation is not read; the SET gives the time');
    }
    case 'sig-flip':
      setSignature(d, flipBit(signatureOf(d), mu.flip));
      return say(d, 'deny', 'signature bytes changed');
    case 'sig-text': {
      const text = d.annotations![COSIGN_ANNOTATIONS.signature]!;
      const i = mu.index % (text.length + 1);
      const edited = text.slice(0, i) + mu.char + text.slice(i + 1);
      d.annotations![COSIGN_ANNOTATIONS.signature] = edited;
      // Go's StdEncoding (and trustgate) read the annotation strictly; other text decoding to the same bytes is odd but harmless.
      const same = Buffer.from(edited, 'base64').equals(unb64(text));
      return say(d, same ? 'any' : 'deny', 'signature annotation text edited');
    }
    case 'digest-flip': {
      const digest = bundle!.messageSignature!.messageDigest;
      digest.digest = flipText(digest.digest, mu.flip);
      return say(d, 'deny', 'messageDigest is not this manifest’s');
    }
    case 'digest-algorithm':
      (bundle!.messageSignature!.messageDigest as { algorithm: string }).algorithm = mu.algorithm;
      return say(d, mu.algorithm === 'SHA2_256' ? 'allow' : 'deny', 'messageDigest.algorithm must be SHA2_256');
    case 'dsse-payload-flip': {
      const env = bundle!.dsseEnvelope!;
      env.payload = flipText(env.payload, mu.flip);
      return say(d, 'deny', 'DSSE payload changed');
    }
    case 'dsse-payload-type': {
      const env = bundle!.dsseEnvelope!;
      const same = env.payloadType === mu.payloadType;
      env.payloadType = mu.payloadType;
      return say(d, same ? 'allow' : 'deny', 'the PAE covers the payload type');
    }
    case 'payload-flip':
      d.payload = flipBit(d.payload!, mu.flip);
      return say(d, 'deny', 'the signed payload changed');
    case 'other-subject': {
      const other = subjectOf(mu.bytes);
      const same = other.digest === d.subject.digest;
      d.subject = other;
      return say(d, same ? 'allow' : 'deny', 'signed for another manifest');
    }
    case 'extra-annotation':
      Object.defineProperty(d.annotations!, mu.key, { value: mu.value, enumerable: true, writable: true, configurable: true });
      return say(d, 'allow', 'an unrelated annotation');
    case 'extra-field':
      Object.defineProperty(bundle!, mu.key, { value: mu.value, enumerable: true, writable: true, configurable: true });
      return say(d, 'any', 'an unknown bundle member');
    case 'media-type': {
      bundle!.mediaType = mu.mediaType;
      if (!READABLE.includes(mu.mediaType)) return say(d, 'deny', 'not a bundle media type trustgate reads');
      if (mu.mediaType === V01) return say(d, d.promise ? 'allow' : 'deny', 'v0.1 entries need a promise');
      if (mu.mediaType !== SIGSTORE_MT.bundleV02 && d.signed.chain) return say(d, 'deny', 'v0.3 forbids x509CertificateChain');
      return say(d, 'allow', 'a version that reads these fields the same');
    }
  }
}

function checkpoint(m: Material, d: Draft, c: CheckpointOp): void {
  const proof = entry(d).inclusionProof!;
  const envelope = proof.checkpoint.envelope;
  const split = envelope.indexOf('\n\n');
  const note = envelope.slice(0, split + 1);
  const signatures = envelope.slice(split + 2);
  const line = /^\u2014 (\S+) (\S+)\n$/.exec(signatures)!;
  const [name, sig] = [line[1]!, unb64(line[2]!)];
  const sigLine = (n: string, bytes: Buffer): string => `\u2014 ${n} ${b64(bytes)}\n`;
  const write = (text: string): void => void (proof.checkpoint = { envelope: text });
  switch (c.op) {
    case 'note-char': {
      const i = c.index % note.length;
      const char = c.char === note[i] ? String.fromCharCode(note.charCodeAt(i) ^ 1) : c.char;
      write(`${note.slice(0, i)}${char}${note.slice(i + 1)}\n${signatures}`);
      return say(d, 'deny', 'the signed note changed');
    }
    case 'sig-flip': {
      const flipped = Buffer.from(sig);
      const at = 4 + (c.flip.index % (sig.length - 4));
      flipped[at] = flipped[at]! ^ (1 << c.flip.bit);
      write(`${note}\n${sigLine(name, flipped)}`);
      return say(d, 'deny', 'checkpoint signature changed');
    }
    case 'key-hint': {
      const flipped = Buffer.from(sig);
      const at = c.flip.index % 4;
      flipped[at] = flipped[at]! ^ (1 << c.flip.bit);
      write(`${note}\n${sigLine(name, flipped)}`);
      return say(d, 'deny', 'checkpoint key hint names no trusted log');
    }
    case 'name':
      write(`${note}\n\u2014 ${c.name} ${b64(sig)}\n`);
      return say(d, 'any', 'the signer name is matched as a pattern; the key and signature still decide');
    case 'junk':
      write(`${envelope}${c.text}`);
      return say(d, 'any', 'text after the signature lines');
    case 'extra-line':
      write(`${envelope}${sigLine(c.name, c.bytes)}`);
      return say(d, 'any', 'another signature line; one valid signature by the log suffices');
    case 'drop-sig':
      write(`${note}\n`);
      return say(d, 'deny', 'an unsigned checkpoint');
    case 'size': {
      const lines = note.split('\n');
      lines[1] = String(Number(lines[1]) + c.delta);
      write(`${lines.join('\n')}\n${signatures}`);
      return say(d, 'deny', 'the signed size changed');
    }
    case 'root': {
      const lines = note.split('\n');
      lines[2] = flipText(lines[2]!, c.flip);
      write(`${lines.join('\n')}\n${signatures}`);
      return say(d, 'deny', 'the signed root hash changed');
    }
    case 'other':
      write(m.otherCheckpoint);
      return say(d, 'deny', 'a valid checkpoint of another tree: the proof does not lead to its root');
  }
}

function timestamp(m: Material, d: Draft, s: TsaOp): void {
  const current = tokens(d).map((t) => unb64(t.signedTimestamp));
  const first = current[0]!;
  switch (s.op) {
    case 'flip': {
      const flipped = flipBit(first, s.flip);
      setTokens(d, [flipped, ...current.slice(1)]);
      const meaning = timestampMeaning(flipped);
      const kept = meaning !== undefined && meaning === timestampMeaning(first);
      return say(d, kept ? 'any' : 'deny', kept ? 'token bytes outside what the TSA signed changed' : 'timestamp token changed');
    }
    case 'drop':
      setTokens(d, []);
      d.tsa = false;
      d.tsaAt = undefined;
      return say(d, d.promise ? 'allow' : 'deny', d.promise ? 'the SET still gives the time' : 'no trusted signing time is left');
    case 'untrusted':
      setTokens(d, [m.sigstore.untrusted.tsa.timestamp(signatureOf(d), new Date(T + 1000))]);
      return say(d, 'deny', 'a timestamp by a TSA the root does not list');
    case 'over-other':
      setTokens(d, [m.sigstore.tsa.timestamp(Buffer.from('another signature'), new Date(T + 1000))]);
      return say(d, 'deny', 'a timestamp over other bytes');
    case 'time':
      setTokens(d, [m.sigstore.tsa.timestamp(signatureOf(d), new Date(T + s.offset * 1000))]);
      d.tsaAt = T + s.offset * 1000;
      return say(d, withinLeaf(s.offset), `timestamped ${s.offset} s after notBefore`);
    case 'duplicate':
      setTokens(d, [...current, first]);
      return say(d, 'any', 'the same timestamp twice');
  }
}

// ---- the case the verifier sees -------------------------------------------------------------------

export type Built =
  | { readonly form: 'cosign'; readonly artifact: CosignSignature; readonly subject: Subject; readonly trust: TrustName }
  | { readonly form: 'bundle'; readonly bundle: Buffer; readonly subject: Subject; readonly trust: TrustName };

export function build(d: Draft): Built {
  if (d.signed.form === 'bundle') return { form: 'bundle', bundle: Buffer.from(jsonText(d.bundle)), subject: d.subject, trust: d.trust };
  return {
    form: 'cosign',
    artifact: { scheme: 'cosign', source: 'fuzz', mediaType: SIMPLE_SIGNING, payload: d.payload!, annotations: d.annotations! },
    subject: d.subject,
    trust: d.trust,
  };
}
