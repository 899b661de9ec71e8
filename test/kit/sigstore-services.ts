// An offline "local sigstore" for tests: a Fulcio-like CA with a CT log, a Rekor-like log, an
// RFC 3161 TSA, a trusted_root.json for them, and signers that produce sigstore bundles (v0.3) and
// cosign `.sig` layer annotations — each with knobs to build the failure cases. Keys are made at
// test time. Independent of src/ on purpose: a verifier bug cannot hide behind shared code.
// Formats: sigstore protobuf-specs (sigstore_bundle.proto, sigstore_trustroot.proto), cosign
// pkg/cosign/bundle/{rekor,tsa}.go, rekor pkg/types. Pieces: ./sigstore-{der,pki,rekor,tsa}.ts.
import { createHash, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { COSIGN_SIGNATURE_ANNOTATION, dssePae, publicKeyHint } from './cosign-sign.ts';
import { pem } from './sigstore-der.ts';
import { CA_NOT_BEFORE, ecKeyPair, makeByoPki, makeCtLog, makeFulcio, publicOf, spkiDer } from './sigstore-pki.ts';
import type { ByoPki, Certificate, CtLog, Curve, FulcioCa, KeyPair, LeafOptions } from './sigstore-pki.ts';
import { KIND_VERSIONS, dsseBody, hashedRekordBody, intotoBody, makeRekorLog } from './sigstore-rekor.ts';
import type { DsseLogInput, EntryKind, LogEntry, RekorLog } from './sigstore-rekor.ts';
import { makeTsa } from './sigstore-tsa.ts';
import type { Tsa } from './sigstore-tsa.ts';

export { canonicalJson, signCheckpoint, signEntryTimestamp } from './sigstore-rekor.ts';
export type { EntryKind, InclusionProof, LogEntry, RekorLog } from './sigstore-rekor.ts';
export { ecKeyPair, makeByoPki, makeCtLog, makeFulcio, OIDS, spkiDer } from './sigstore-pki.ts';
export type { ByoPki, Certificate, CtLog, FulcioCa, KeyPair, LeafOptions } from './sigstore-pki.ts';
export { makeRekorLog } from './sigstore-rekor.ts';
export { makeTsa } from './sigstore-tsa.ts';
export type { Tsa } from './sigstore-tsa.ts';

export const SIGSTORE_MT = {
  bundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  bundleV02: 'application/vnd.dev.sigstore.bundle+json;version=0.2',
  trustedRoot: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  inToto: 'application/vnd.in-toto+json',
} as const;

/** cosign pkg/oci/static: the annotations a `.sig` layer carries besides the signature. */
export const COSIGN_ANNOTATIONS = {
  signature: COSIGN_SIGNATURE_ANNOTATION,
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

// ---------------------------------------------------------------------------------------------
// JSON shapes (protobuf JSON mapping: bytes as std base64, int64 as decimal strings)

export interface TimeRange {
  start: Date;
  end?: Date;
}
interface TimeRangeJson {
  start: string;
  end?: string;
}
export interface TransparencyLogInstanceJson {
  baseUrl: string;
  hashAlgorithm: 'SHA2_256';
  publicKey: { rawBytes: string; keyDetails: string; validFor: TimeRangeJson };
  logId: { keyId: string };
}
export interface CertificateAuthorityJson {
  subject: { organization: string; commonName: string };
  uri: string;
  certChain: { certificates: { rawBytes: string }[] };
  validFor: TimeRangeJson;
}
export interface TrustedRootJson {
  mediaType: string;
  tlogs: TransparencyLogInstanceJson[];
  certificateAuthorities: CertificateAuthorityJson[];
  ctlogs: TransparencyLogInstanceJson[];
  timestampAuthorities: CertificateAuthorityJson[];
}

export interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof?: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint: { envelope: string } };
  canonicalizedBody: string;
}
export interface BundleJson {
  mediaType: string;
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    publicKey?: { hint: string };
    tlogEntries: TlogEntryJson[];
    timestampVerificationData?: { rfc3161Timestamps: { signedTimestamp: string }[] };
  };
  messageSignature?: { messageDigest: { algorithm: 'SHA2_256'; digest: string }; signature: string };
  dsseEnvelope?: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}

/** A `.sig` layer: payload, base64 signature, and the annotations cosign writes (signature included). */
export interface CosignSignature {
  payload: Buffer;
  signature: string;
  annotations: Record<string, string>;
}

const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64');
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();
const wholeSecond = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
const plusSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);

// ---------------------------------------------------------------------------------------------
// trusted_root.json (protobuf-specs sigstore_trustroot.proto TrustedRoot)

const rangeJson = (r: TimeRange): TimeRangeJson => ({ start: r.start.toISOString(), ...(r.end ? { end: r.end.toISOString() } : {}) });
const DEFAULT_RANGE: TimeRange = { start: CA_NOT_BEFORE };

/** sigstore_common.proto PublicKeyDetails for the ECDSA keys the kit makes. */
const keyDetails = (key: KeyObject): string =>
  key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'PKIX_ECDSA_P384_SHA_384' : 'PKIX_ECDSA_P256_SHA_256';

/** A tlog or ctlog instance: baseUrl, SPKI DER, logId = SHA-256(SPKI). */
export function logInstance(log: { baseUrl: string; key: KeyPair }, validFor: TimeRange = DEFAULT_RANGE): TransparencyLogInstanceJson {
  const spki = spkiDer(log.key.publicKey);
  return {
    baseUrl: log.baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(spki), keyDetails: keyDetails(log.key.publicKey), validFor: rangeJson(validFor) },
    logId: { keyId: b64(sha256(spki)) },
  };
}

/** A CA or TSA entry; `chain` leaf-most first (intermediate then root; for a TSA, its signing leaf first). */
export function authority(chain: readonly Certificate[], uri: string, validFor: TimeRange = DEFAULT_RANGE): CertificateAuthorityJson {
  return {
    subject: { organization: 'sigstore.local', commonName: uri.replace(/^https:\/\//, '') },
    uri,
    certChain: { certificates: chain.map((c) => ({ rawBytes: b64(c.der) })) },
    validFor: rangeJson(validFor),
  };
}

/** Anything with a root and an intermediate: a FulcioCa or a ByoPki. */
export interface CaLike {
  root: { cert: Certificate };
  intermediate: { cert: Certificate };
}

const caChain = (ca: CaLike): Certificate[] => [ca.intermediate.cert, ca.root.cert];

export interface TrustedRootOptions {
  /** The local Fulcio; false leaves it out. */
  ca?: { validFor?: TimeRange } | false;
  tlog?: { validFor?: TimeRange } | false;
  ctlog?: { validFor?: TimeRange } | false;
  tsa?: { validFor?: TimeRange } | false;
  extraCAs?: readonly (CaLike | { chain: readonly Certificate[]; validFor?: TimeRange })[];
  extraTlogs?: readonly RekorLog[];
  extraCtlogs?: readonly CtLog[];
  extraTsas?: readonly Tsa[];
}

// ---------------------------------------------------------------------------------------------
// Signing options

/** For the cosign annotation forms only `false`, `log`, `integratedTime`, the logged* and setKey options matter (no proof there). */
export interface LogOptions {
  /** Default the trusted log; pass `untrusted.rekor` for "a log the root does not list". */
  log?: RekorLog;
  /** Default the signing time + 1 s. */
  integratedTime?: Date;
  /** Keep the SET (default true). */
  promise?: boolean;
  /** Keep the inclusion proof (default true). */
  proof?: boolean;
  /**
   * Body kind logged (default hashedrekord for message signatures, dsse for DSSE). A message signature
   * logged as dsse/intoto records its signature and artifact digest as the payload hash.
   */
  kind?: EntryKind;
  /** What the bundle's kindVersion claims (default the logged body's). */
  kindVersion?: { kind: string; version: string };
  /** Log this signature instead of the real one ("an entry for another signature"). */
  loggedSignature?: Buffer;
  /** Log this artifact / payload digest instead of the real one. */
  loggedDigest?: Buffer;
  /** Record this PEM (certificate or public key) as the signer instead of the real one. */
  loggedSigner?: string;
  /** Sign the SET with another key while claiming the log's ID. */
  setKey?: KeyObject;
  /** Sign the checkpoint with another key. */
  checkpointKey?: KeyObject;
}

export interface TsaOptions {
  /** Default the trusted TSA; pass `untrusted.tsa` for "a TSA the root does not list". */
  tsa?: Tsa;
  /** genTime; default the signing time + 1 s. */
  time?: Date;
  /** Timestamp these bytes instead of the signature (e.g. another signature's bytes). */
  over?: Buffer;
}

export interface KeylessOptions {
  /** Signing time: the leaf's notBefore (whole seconds; default now). */
  time?: Date;
  /** Leaf options (identity, issuer, extensions, SCT, validity); default email signer@example.com. */
  leaf?: Partial<Omit<LeafOptions, 'publicKey'>>;
  /** Issue from this CA (default the trusted one; `untrusted.fulcio` for an unknown root). */
  fulcio?: FulcioCa;
  /** Sign with this BYO-PKI leaf and key instead of a fresh Fulcio leaf (no SCT, no Fulcio extensions). */
  byo?: ByoPki;
  /** The ephemeral key's curve (default P-256; signatures are SHA-256 either way). */
  curve?: Curve;
  /** false: no tlog entry. Default: one entry with promise and proof in the trusted log. */
  tlog?: LogOptions | false;
  /** An RFC 3161 timestamp over the signature (default none). */
  tsa?: TsaOptions | boolean;
  /** Bundle v0.2 with x509CertificateChain [leaf, intermediate, root] instead of v0.3 `certificate`. */
  chainInBundle?: boolean;
}

export interface KeyOptions {
  time?: Date;
  tlog?: LogOptions | false;
  tsa?: TsaOptions | boolean;
}

/** What a log entry records and what the bundle's signature content is compared against. */
interface Signed {
  signature: Buffer;
  signerPem: string;
  /** SHA-256 of the artifact (message) or payload (DSSE). */
  digest: Buffer;
  dsse?: DsseLogInput;
}

interface Evidence {
  entry?: { json: TlogEntryJson; raw: LogEntry };
  timestamp?: Buffer;
}

export interface LocalSigstore {
  fulcio: FulcioCa;
  ctlog: CtLog;
  rekor: RekorLog;
  tsa: Tsa;
  /** Same services with their own keys; the default trusted root lists none of them. */
  untrusted: { fulcio: FulcioCa; ctlog: CtLog; rekor: RekorLog; tsa: Tsa };
  /** A root + intermediate + long-lived leaf (email + DNS SANs), not in the default trusted root (extraCAs). */
  byo: ByoPki;
  trustedRoot(options?: TrustedRootOptions): TrustedRootJson;
  /** Log a body directly in the trusted (or given) log. */
  append(body: object, integratedTime: Date, log?: RekorLog): LogEntry;
  keylessMessageBundle(artifact: Buffer, options?: KeylessOptions): BundleJson;
  keylessDsseBundle(statement: Buffer, options?: KeylessOptions & { payloadType?: string }): BundleJson;
  /** A public-key bundle (verificationMaterial.publicKey.hint = cosign's key hint). */
  keyMessageBundle(artifact: Buffer, privateKey: KeyObject, options?: KeyOptions): BundleJson;
  cosignKeylessSignature(payload: Buffer, options?: KeylessOptions): CosignSignature;
  cosignKeySignature(payload: Buffer, privateKey: KeyObject, options?: KeyOptions): CosignSignature;
}

export interface LocalSigstoreSpec {
  /** Dummy entries already in each Rekor log (default 100). */
  padEntries?: number;
  /** Added to tree indexes for the entries' global logIndex (default 0). */
  shardOffset?: number;
}

// ---------------------------------------------------------------------------------------------

export function createLocalSigstore(spec: LocalSigstoreSpec = {}): LocalSigstore {
  const rekorSpec = { padBefore: spec.padEntries, shardOffset: spec.shardOffset };
  const ctlog = makeCtLog();
  const fulcio = makeFulcio({ ctlog });
  const rekor = makeRekorLog({ name: 'rekor.local', ...rekorSpec });
  const tsa = makeTsa();
  const untrustedCtlog = makeCtLog();
  const untrusted = {
    fulcio: makeFulcio({ organization: 'rogue.example', ctlog: untrustedCtlog }),
    ctlog: untrustedCtlog,
    rekor: makeRekorLog({ name: 'rogue-rekor.local', treeId: '42', ...rekorSpec }),
    tsa: makeTsa({ organization: 'rogue.example' }),
  };
  const byo = makeByoPki();

  const trustedRoot = (o: TrustedRootOptions = {}): TrustedRootJson => {
    const ctlogs: { log: CtLog; validFor?: TimeRange }[] = [
      ...(o.ctlog === false ? [] : [{ log: ctlog, validFor: o.ctlog?.validFor }]),
      ...(o.extraCtlogs ?? []).map((log) => ({ log })),
    ];
    const extraCAs = (o.extraCAs ?? []).map((ca) => ('chain' in ca ? { chain: ca.chain, validFor: ca.validFor } : { chain: caChain(ca) }));
    return {
      mediaType: SIGSTORE_MT.trustedRoot,
      tlogs: [...(o.tlog === false ? [] : [logInstance(rekor, o.tlog?.validFor)]), ...(o.extraTlogs ?? []).map((l) => logInstance(l))],
      certificateAuthorities: [
        ...(o.ca === false ? [] : [authority(caChain(fulcio), 'https://fulcio.local', o.ca?.validFor)]),
        ...extraCAs.map((ca, i) => authority(ca.chain, `https://ca-${i}.local`, ca.validFor)),
      ],
      ctlogs: ctlogs.map((c, i) => logInstance({ baseUrl: `https://ctfe-${i}.local`, key: c.log.key }, c.validFor)),
      timestampAuthorities: [
        ...(o.tsa === false ? [] : [authority(tsa.chain, 'https://tsa.local', o.tsa?.validFor)]),
        ...(o.extraTsas ?? []).map((t, i) => authority(t.chain, `https://tsa-${i}.local`)),
      ],
    };
  };

  /** Logs `signed` per `options` and returns the bundle's tlog entry (protobuf-specs TransparencyLogEntry). */
  const logEntry = (signed: Signed, defaultKind: EntryKind, time: Date, options: LogOptions): Evidence['entry'] => {
    const kind = options.kind ?? defaultKind;
    const recorded: Signed = {
      signature: options.loggedSignature ?? signed.signature,
      signerPem: options.loggedSigner ?? signed.signerPem,
      digest: options.loggedDigest ?? signed.digest,
      dsse: signed.dsse,
    };
    const dsse: DsseLogInput = recorded.dsse
      ? { ...recorded.dsse, signature: recorded.signature, signerPem: recorded.signerPem, payloadDigest: recorded.digest }
      : {
          payloadType: 'application/octet-stream',
          payload: Buffer.alloc(0),
          signature: recorded.signature,
          signerPem: recorded.signerPem,
          payloadDigest: recorded.digest,
        };
    const body =
      kind === 'hashedrekord'
        ? hashedRekordBody(recorded.signature, recorded.signerPem, recorded.digest)
        : kind === 'intoto'
          ? intotoBody(dsse)
          : dsseBody(dsse);
    const raw = (options.log ?? rekor).append(body, options.integratedTime ?? plusSeconds(time, 1), {
      setKey: options.setKey,
      checkpointKey: options.checkpointKey,
    });
    const proof = raw.inclusionProof;
    const json: TlogEntryJson = {
      logIndex: String(raw.logIndex),
      logId: { keyId: b64(raw.logID) },
      kindVersion: options.kindVersion ?? { kind, version: KIND_VERSIONS[kind] },
      integratedTime: String(raw.integratedTime),
      ...(options.promise === false ? {} : { inclusionPromise: { signedEntryTimestamp: b64(raw.signedEntryTimestamp) } }),
      ...(options.proof === false
        ? {}
        : {
            inclusionProof: {
              logIndex: String(proof.logIndex),
              rootHash: b64(proof.rootHash),
              treeSize: String(proof.treeSize),
              hashes: proof.hashes.map(b64),
              checkpoint: proof.checkpoint,
            },
          }),
      canonicalizedBody: b64(raw.canonicalizedBody),
    };
    return { json, raw };
  };

  const evidence = (
    signed: Signed,
    kind: EntryKind,
    time: Date,
    o: { tlog?: LogOptions | false; tsa?: TsaOptions | boolean },
  ): Evidence => {
    const t = o.tsa === true ? {} : o.tsa || undefined;
    return {
      entry: o.tlog === false ? undefined : logEntry(signed, kind, time, o.tlog ?? {}),
      timestamp: t ? (t.tsa ?? tsa).timestamp(t.over ?? signed.signature, t.time ?? plusSeconds(time, 1)) : undefined,
    };
  };

  /** A fresh ephemeral key and its Fulcio leaf (or the BYO leaf and its key). */
  const keyless = (o: KeylessOptions): { key: KeyPair; leaf: Certificate; ca: CaLike; time: Date } => {
    const time = wholeSecond(o.time ?? new Date());
    if (o.byo) return { key: o.byo.leafKey, leaf: o.byo.leaf, ca: o.byo, time };
    const key = ecKeyPair(o.curve ?? 'P-256');
    const identity = o.leaf?.email || o.leaf?.uri || o.leaf?.dns ? {} : { email: 'signer@example.com' };
    const ca = o.fulcio ?? fulcio;
    const leaf = ca.issueLeaf({ notBefore: time, ...identity, ...o.leaf, publicKey: key.publicKey });
    return { key, leaf, ca, time };
  };

  const bundle = (
    material: Pick<BundleJson['verificationMaterial'], 'certificate' | 'x509CertificateChain' | 'publicKey'>,
    ev: Evidence,
    content: Pick<BundleJson, 'messageSignature' | 'dsseEnvelope'>,
  ): BundleJson => ({
    mediaType: material.x509CertificateChain ? SIGSTORE_MT.bundleV02 : SIGSTORE_MT.bundleV03,
    verificationMaterial: {
      ...material,
      tlogEntries: ev.entry ? [ev.entry.json] : [],
      ...(ev.timestamp ? { timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: b64(ev.timestamp) }] } } : {}),
    },
    ...content,
  });

  const certMaterial = (
    leaf: Certificate,
    ca: CaLike,
    chain: boolean | undefined,
  ): Pick<BundleJson['verificationMaterial'], 'certificate' | 'x509CertificateChain'> =>
    chain
      ? { x509CertificateChain: { certificates: [leaf, ...caChain(ca)].map((c) => ({ rawBytes: b64(c.der) })) } }
      : { certificate: { rawBytes: b64(leaf.der) } };

  const messageSignature = (artifact: Buffer, signature: Buffer): BundleJson['messageSignature'] => ({
    messageDigest: { algorithm: 'SHA2_256', digest: b64(sha256(artifact)) },
    signature: b64(signature),
  });

  /** cosign's `.sig` annotations: signature, bundle (SET + payload, rekor.go), optional RFC 3161 timestamp (tsa.go). */
  const cosignAnnotations = (signature: Buffer, ev: Evidence): Record<string, string> => {
    const out: Record<string, string> = { [COSIGN_ANNOTATIONS.signature]: b64(signature) };
    if (ev.entry) {
      const e = ev.entry.raw;
      // Go's json.Marshal of RekorBundle: struct field order, compact; []byte as std base64.
      out[COSIGN_ANNOTATIONS.bundle] = JSON.stringify({
        SignedEntryTimestamp: b64(e.signedEntryTimestamp),
        Payload: { body: b64(e.canonicalizedBody), integratedTime: e.integratedTime, logIndex: e.logIndex, logID: e.logID.toString('hex') },
      });
    }
    if (ev.timestamp) out[COSIGN_ANNOTATIONS.rfc3161Timestamp] = JSON.stringify({ SignedRFC3161Timestamp: b64(ev.timestamp) });
    return out;
  };

  const publicKeyPem = (privateKey: KeyObject): string => pem('PUBLIC KEY', spkiDer(publicOf(privateKey)));

  return {
    fulcio,
    ctlog,
    rekor,
    tsa,
    untrusted,
    byo,
    trustedRoot,
    append: (body, integratedTime, log = rekor) => log.append(body, integratedTime),

    keylessMessageBundle(artifact, options = {}) {
      const { key, leaf, ca, time } = keyless(options);
      const signature = sign('sha256', artifact, key.privateKey);
      const ev = evidence({ signature, signerPem: leaf.pem, digest: sha256(artifact) }, 'hashedrekord', time, options);
      return bundle(certMaterial(leaf, ca, options.chainInBundle), ev, { messageSignature: messageSignature(artifact, signature) });
    },

    keylessDsseBundle(statement, options = {}) {
      const { key, leaf, ca, time } = keyless(options);
      const payloadType = options.payloadType ?? SIGSTORE_MT.inToto;
      const signature = sign('sha256', dssePae(payloadType, statement), key.privateKey);
      const dsse: DsseLogInput = { payloadType, payload: statement, signature, signerPem: leaf.pem };
      const ev = evidence({ signature, signerPem: leaf.pem, digest: sha256(statement), dsse }, 'dsse', time, options);
      return bundle(certMaterial(leaf, ca, options.chainInBundle), ev, {
        dsseEnvelope: { payload: b64(statement), payloadType, signatures: [{ sig: b64(signature), keyid: '' }] },
      });
    },

    keyMessageBundle(artifact, privateKey, options = {}) {
      const time = wholeSecond(options.time ?? new Date());
      const signature = sign('sha256', artifact, privateKey);
      const ev = evidence({ signature, signerPem: publicKeyPem(privateKey), digest: sha256(artifact) }, 'hashedrekord', time, options);
      return bundle({ publicKey: { hint: publicKeyHint(privateKey) } }, ev, { messageSignature: messageSignature(artifact, signature) });
    },

    cosignKeylessSignature(payload, options = {}) {
      const { key, leaf, ca, time } = keyless(options);
      const signature = sign('sha256', payload, key.privateKey);
      const ev = evidence({ signature, signerPem: leaf.pem, digest: sha256(payload) }, 'hashedrekord', time, options);
      const annotations = {
        ...cosignAnnotations(signature, ev),
        [COSIGN_ANNOTATIONS.certificate]: leaf.pem,
        [COSIGN_ANNOTATIONS.chain]: ca.intermediate.cert.pem + ca.root.cert.pem,
      };
      return { payload, signature: b64(signature), annotations };
    },

    cosignKeySignature(payload, privateKey, options = {}) {
      const time = wholeSecond(options.time ?? new Date());
      const signature = sign('sha256', payload, privateKey);
      const ev = evidence({ signature, signerPem: publicKeyPem(privateKey), digest: sha256(payload) }, 'hashedrekord', time, options);
      return { payload, signature: b64(signature), annotations: cosignAnnotations(signature, ev) };
    },
  };
}
