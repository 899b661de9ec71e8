// Certificates for the local sigstore kit: a Fulcio-like CA (root + intermediate, leaves with the
// Fulcio OID extensions and an embedded SCT), a CT log that signs RFC 6962 precertificate SCTs, and
// a plain "bring your own PKI" chain. DER is written by ./sigstore-der.ts; keys and signatures are
// node:crypto. No src/ imports.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  bitString,
  bool,
  explicit,
  implicitPrimitive,
  int,
  namedBits,
  octets,
  oid,
  pem,
  printable,
  seq,
  setOf,
  utf8,
  x509Time,
} from './sigstore-der.ts';

export type Curve = 'P-256' | 'P-384';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export const ecKeyPair = (curve: Curve = 'P-256'): KeyPair => generateKeyPairSync('ec', { namedCurve: curve });

/** The public half of a key (node's createPublicKey refuses a public KeyObject). */
export const publicOf = (key: KeyObject): KeyObject => (key.type === 'public' ? key : createPublicKey(key));

/** SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7). */
export const spkiDer = (key: KeyObject): Buffer => publicOf(key).export({ type: 'spki', format: 'der' });

/** The digest an ECDSA key signs with here: SHA-256 for P-256, SHA-384 for P-384 (as Fulcio's P-384 CA does). */
export const ecdsaHash = (key: KeyObject): 'sha256' | 'sha384' =>
  key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';

export const OIDS = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** RFC 6962 §3.3 embedded SCT list. */
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  /** Fulcio docs/oid-info.md: 1.1 issuer (raw string, deprecated), 1.8 issuer (DER UTF8String). */
  fulcioIssuerV1: '1.3.6.1.4.1.57264.1.1',
  fulcioIssuerV2: '1.3.6.1.4.1.57264.1.8',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
} as const;

export interface Extension {
  oid: string;
  critical?: boolean;
  /** The DER (or, for Fulcio's v1 extensions, raw) bytes inside extnValue. */
  value: Buffer;
}

export interface Certificate {
  der: Buffer;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

/** A CA: its certificate, key and encoded subject (what its children carry as issuer). */
export interface Authority {
  cert: Certificate;
  key: KeyPair;
  subject: Buffer;
}

export interface NameSpec {
  organization?: string;
  commonName?: string;
}

/** RFC 5280 §4.1.2.4 Name: one RDN per attribute, UTF8String values; {} is the empty subject. */
export function name(spec: NameSpec): Buffer {
  const rdn = (type: string, value: string): Buffer => setOf(seq(oid(type), utf8(value)));
  return seq(
    ...(spec.organization ? [rdn(OIDS.organization, spec.organization)] : []),
    ...(spec.commonName ? [rdn(OIDS.commonName, spec.commonName)] : []),
  );
}

/** RFC 5280 §4.1 Extension: extnID, critical (DEFAULT FALSE, so omitted when false), extnValue. */
const extension = (e: Extension): Buffer => seq(oid(e.oid), ...(e.critical ? [bool(true)] : []), octets(e.value));

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(key: KeyObject): Buffer {
  const jwk = publicOf(key).export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(String(jwk.x), 'base64url'), Buffer.from(String(jwk.y), 'base64url')]);
  return createHash('sha1').update(point).digest();
}

export const ext = {
  /** §4.2.1.3 bits: 0 digitalSignature, 5 keyCertSign, 6 cRLSign. */
  keyUsage: (bits: readonly number[]): Extension => ({ oid: OIDS.keyUsage, critical: true, value: namedBits(bits) }),
  extKeyUsage: (purposes: readonly string[]): Extension => ({ oid: OIDS.extKeyUsage, value: seq(...purposes.map(oid)) }),
  basicConstraints: (ca: boolean, pathLen?: number): Extension => ({
    oid: OIDS.basicConstraints,
    critical: true,
    value: seq(...(ca ? [bool(true)] : []), ...(pathLen !== undefined ? [int(pathLen)] : [])),
  }),
  subjectKeyId: (key: KeyObject): Extension => ({ oid: OIDS.subjectKeyId, value: octets(keyIdentifier(key)) }),
  /** §4.2.1.1 keyIdentifier [0] IMPLICIT. */
  authorityKeyId: (key: KeyObject): Extension => ({ oid: OIDS.authorityKeyId, value: seq(implicitPrimitive(0, keyIdentifier(key))) }),
  /** §4.2.1.6 GeneralNames: rfc822Name [1], dNSName [2], uniformResourceIdentifier [6]; critical when the subject is empty. */
  subjectAltName: (names: { email?: string; dns?: string; uri?: string }, critical: boolean): Extension => ({
    oid: OIDS.subjectAltName,
    critical,
    value: seq(
      ...(names.email ? [implicitPrimitive(1, Buffer.from(names.email))] : []),
      ...(names.dns ? [implicitPrimitive(2, Buffer.from(names.dns))] : []),
      ...(names.uri ? [implicitPrimitive(6, Buffer.from(names.uri))] : []),
    ),
  }),
};

export interface TbsSpec {
  subject: Buffer;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: readonly Extension[];
  serial?: Buffer;
}

/** A positive 16-byte serial (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
const randomSerial = (): Buffer => {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x7f) | 0x10;
  return s;
};

/** RFC 5280 §4.1.1.2 AlgorithmIdentifier for the issuer's ECDSA signature, parameters absent (RFC 5758 §3.2). */
const signatureAlgorithm = (issuerKey: KeyObject): Buffer =>
  seq(oid(ecdsaHash(issuerKey) === 'sha384' ? OIDS.ecdsaWithSha384 : OIDS.ecdsaWithSha256));

/** RFC 5280 §4.1.2 TBSCertificate, v3. */
export function tbsCertificate(issuer: { subject: Buffer; key: KeyPair }, spec: TbsSpec): Buffer {
  return seq(
    explicit(0, int(2)),
    int(spec.serial ?? randomSerial()),
    signatureAlgorithm(issuer.key.privateKey),
    issuer.subject,
    seq(x509Time(spec.notBefore), x509Time(spec.notAfter)),
    spec.subject,
    spkiDer(spec.publicKey),
    ...(spec.extensions.length > 0 ? [explicit(3, seq(...spec.extensions.map(extension)))] : []),
  );
}

/** RFC 5280 §4.1.1: the issuer's signature over the DER TBSCertificate. */
export function signTbs(tbs: Buffer, issuerKey: KeyObject, notBefore: Date, notAfter: Date): Certificate {
  const signature = sign(ecdsaHash(issuerKey), tbs, issuerKey);
  const der = seq(tbs, signatureAlgorithm(issuerKey), bitString(signature));
  return { der, pem: pem('CERTIFICATE', der), notBefore, notAfter };
}

export function issueCertificate(issuer: { subject: Buffer; key: KeyPair }, spec: TbsSpec): Certificate {
  return signTbs(tbsCertificate(issuer, spec), issuer.key.privateKey, spec.notBefore, spec.notAfter);
}

export interface CaSpec extends NameSpec {
  curve?: Curve;
  notBefore?: Date;
  notAfter?: Date;
  pathLen?: number;
  extKeyUsage?: readonly string[];
}

/** Long-lived defaults, so any test time from 2020 to 2040 lies inside the CA certificates. */
export const CA_NOT_BEFORE = new Date('2020-01-01T00:00:00Z');
export const CA_NOT_AFTER = new Date('2040-01-01T00:00:00Z');

const caExtensions = (key: KeyObject, parent: KeyObject, spec: CaSpec): Extension[] => [
  ext.keyUsage([5, 6]),
  ext.basicConstraints(true, spec.pathLen),
  ...(spec.extKeyUsage ? [ext.extKeyUsage(spec.extKeyUsage)] : []),
  ext.subjectKeyId(key),
  ext.authorityKeyId(parent),
];

export function makeRootCa(spec: CaSpec = {}): Authority {
  const key = ecKeyPair(spec.curve ?? 'P-384');
  const subject = name(spec);
  const cert = issueCertificate(
    { subject, key },
    {
      subject,
      publicKey: key.publicKey,
      notBefore: spec.notBefore ?? CA_NOT_BEFORE,
      notAfter: spec.notAfter ?? CA_NOT_AFTER,
      extensions: caExtensions(key.publicKey, key.publicKey, spec),
    },
  );
  return { cert, key, subject };
}

export function makeIntermediateCa(parent: Authority, spec: CaSpec = {}): Authority {
  const key = ecKeyPair(spec.curve ?? 'P-384');
  const subject = name(spec);
  const cert = issueCertificate(parent, {
    subject,
    publicKey: key.publicKey,
    notBefore: spec.notBefore ?? CA_NOT_BEFORE,
    notAfter: spec.notAfter ?? CA_NOT_AFTER,
    extensions: caExtensions(key.publicKey, parent.key.publicKey, { pathLen: 0, ...spec }),
  });
  return { cert, key, subject };
}

// ---------------------------------------------------------------------------------------------
// CT log (RFC 6962 §3.2, §3.3)

export interface CtLog {
  key: KeyPair;
  /** SPKI DER of the log key (the trusted root's publicKey.rawBytes). */
  spki: Buffer;
  /** RFC 6962 §3.2 LogID: SHA-256 of the log's SPKI DER. */
  logId: Buffer;
}

export function makeCtLog(curve: Curve = 'P-256'): CtLog {
  const key = ecKeyPair(curve);
  const spki = spkiDer(key.publicKey);
  return { key, spki, logId: createHash('sha256').update(spki).digest() };
}

const uint = (value: number | bigint, bytes: number): Buffer => {
  const out = Buffer.alloc(bytes);
  let v = BigInt(value);
  for (let i = bytes - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
/** TLS `opaque<0..2^(8·n)-1>`: length prefix of n bytes (RFC 5246 §4.3). */
const opaque = (data: Buffer, lengthBytes: number): Buffer => Buffer.concat([uint(data.length, lengthBytes), data]);

/**
 * RFC 6962 §3.2 SignedCertificateTimestamp (v1) for a precert_entry: the log signs
 * version ‖ certificate_timestamp ‖ timestamp ‖ precert_entry ‖ SHA-256(issuer SPKI) ‖ tbs<1..2^24-1> ‖ extensions<0..2^16-1>,
 * where tbs is the final TBSCertificate without the SCT-list extension.
 */
export function signSct(log: CtLog, issuerSpki: Buffer, tbsWithoutSct: Buffer, time: Date): Buffer {
  const timestamp = uint(time.getTime(), 8);
  const signed = Buffer.concat([
    Buffer.from([0, 0]),
    timestamp,
    uint(1, 2),
    createHash('sha256').update(issuerSpki).digest(),
    opaque(tbsWithoutSct, 3),
    opaque(Buffer.alloc(0), 2),
  ]);
  const hash = ecdsaHash(log.key.privateKey);
  const signature = sign(hash, signed, log.key.privateKey);
  // RFC 5246 §7.4.1.4.1: HashAlgorithm sha256(4) / sha384(5), SignatureAlgorithm ecdsa(3).
  const digitallySigned = Buffer.concat([Buffer.from([hash === 'sha384' ? 5 : 4, 3]), opaque(signature, 2)]);
  return Buffer.concat([Buffer.from([0]), log.logId, timestamp, opaque(Buffer.alloc(0), 2), digitallySigned]);
}

/** RFC 6962 §3.3: extnValue is an OCTET STRING holding the TLS SignedCertificateTimestampList. */
export const sctListExtension = (scts: readonly Buffer[]): Extension => ({
  oid: OIDS.sctList,
  value: octets(opaque(Buffer.concat(scts.map((s) => opaque(s, 2))), 2)),
});

// ---------------------------------------------------------------------------------------------
// Fulcio-like CA

export interface GithubWorkflow {
  trigger?: string;
  sha?: string;
  name?: string;
  repository?: string;
  ref?: string;
}

export interface LeafOptions {
  publicKey: KeyObject;
  email?: string;
  uri?: string;
  dns?: string;
  /** OIDC issuer; default https://oauth2.sigstore.dev/auth. */
  issuer?: string;
  /** Which issuer extensions to write (default both, as Fulcio does); an object writes disagreeing values. */
  issuerExtensions?: 'v1' | 'v2' | 'both' | 'none' | { v1: string; v2: string };
  notBefore: Date;
  /** Default notBefore + 10 minutes (Fulcio's lifetime). */
  notAfter?: Date;
  /** Embed an SCT (default true). */
  sct?: boolean;
  /** The CT log that signs the SCT (default the CA's own); pass another to get an SCT from an unlisted log. */
  ctlog?: CtLog;
  /** SCT timestamp; default notBefore. */
  sctTime?: Date;
  githubWorkflow?: GithubWorkflow;
}

export interface FulcioCa {
  root: Authority;
  intermediate: Authority;
  ctlog: CtLog;
  /** Intermediate then root, PEM: cosign's `dev.sigstore.cosign/chain` minus the leaf. */
  chainPem: string;
  issueLeaf(options: LeafOptions): Certificate;
}

export const DEFAULT_OIDC_ISSUER = 'https://oauth2.sigstore.dev/auth';
const LEAF_LIFETIME_MS = 10 * 60 * 1000;

/** Fulcio docs/oid-info.md: issuer v1/v2 and the GitHub workflow v1 extensions (1.2–1.6, raw strings). */
function fulcioExtensions(options: LeafOptions): Extension[] {
  const issuer = options.issuer ?? DEFAULT_OIDC_ISSUER;
  const which = options.issuerExtensions ?? 'both';
  const v1 = typeof which === 'object' ? which.v1 : issuer;
  const v2 = typeof which === 'object' ? which.v2 : issuer;
  const out: Extension[] = [];
  if (which === 'v1' || which === 'both' || typeof which === 'object') out.push({ oid: OIDS.fulcioIssuerV1, value: Buffer.from(v1) });
  const wf = options.githubWorkflow ?? {};
  const raw: [string, string | undefined][] = [
    [OIDS.githubWorkflowTrigger, wf.trigger],
    [OIDS.githubWorkflowSha, wf.sha],
    [OIDS.githubWorkflowName, wf.name],
    [OIDS.githubWorkflowRepository, wf.repository],
    [OIDS.githubWorkflowRef, wf.ref],
  ];
  for (const [id, value] of raw) if (value !== undefined) out.push({ oid: id, value: Buffer.from(value) });
  if (which === 'v2' || which === 'both' || typeof which === 'object') out.push({ oid: OIDS.fulcioIssuerV2, value: utf8(v2) });
  return out;
}

/** A Fulcio-shaped leaf: empty subject, critical SAN, digitalSignature, codeSigning, OIDC extensions, then the SCT list. */
export function issueFulcioLeaf(ca: Authority, defaultCtlog: CtLog, options: LeafOptions): Certificate {
  const notAfter = options.notAfter ?? new Date(options.notBefore.getTime() + LEAF_LIFETIME_MS);
  const spec: TbsSpec = {
    subject: name({}),
    publicKey: options.publicKey,
    notBefore: options.notBefore,
    notAfter,
    extensions: [
      ext.keyUsage([0]),
      ext.extKeyUsage([OIDS.codeSigning]),
      ext.subjectKeyId(options.publicKey),
      ext.authorityKeyId(ca.key.publicKey),
      ext.subjectAltName(options, true),
      ...fulcioExtensions(options),
    ],
    serial: randomSerial(),
  };
  if (options.sct === false) return issueCertificate(ca, spec);
  // RFC 6962 §3.2: the SCT covers the TBS as it will be issued, minus the SCT extension itself.
  const sct = signSct(
    options.ctlog ?? defaultCtlog,
    spkiDer(ca.key.publicKey),
    tbsCertificate(ca, spec),
    options.sctTime ?? options.notBefore,
  );
  return issueCertificate(ca, { ...spec, extensions: [...spec.extensions, sctListExtension([sct])] });
}

export interface FulcioSpec {
  organization?: string;
  curve?: Curve;
  ctlog?: CtLog;
  notBefore?: Date;
  notAfter?: Date;
}

/** Root and intermediate shaped like Fulcio's (O=sigstore.dev, CN=sigstore / sigstore-intermediate, P-384). */
export function makeFulcio(spec: FulcioSpec = {}): FulcioCa {
  const organization = spec.organization ?? 'sigstore.dev';
  const validity = { notBefore: spec.notBefore, notAfter: spec.notAfter, curve: spec.curve };
  const root = makeRootCa({ organization, commonName: 'sigstore', ...validity, pathLen: 1 });
  const intermediate = makeIntermediateCa(root, {
    organization,
    commonName: 'sigstore-intermediate',
    ...validity,
    extKeyUsage: [OIDS.codeSigning],
  });
  const ctlog = spec.ctlog ?? makeCtLog();
  return {
    root,
    intermediate,
    ctlog,
    chainPem: intermediate.cert.pem + root.cert.pem,
    issueLeaf: (options) => issueFulcioLeaf(intermediate, ctlog, options),
  };
}

// ---------------------------------------------------------------------------------------------
// Bring-your-own PKI

export interface ByoPki {
  root: Authority;
  intermediate: Authority;
  leaf: Certificate;
  leafKey: KeyPair;
  /** Leaf, intermediate, root PEM. */
  chainPem: string;
}

export interface ByoPkiSpec {
  email?: string;
  dns?: string;
  curve?: Curve;
  notBefore?: Date;
  notAfter?: Date;
}

/** A corporate-style chain: named subjects, a long-lived code-signing leaf with email + DNS SANs, no Fulcio extensions, no SCT. */
export function makeByoPki(spec: ByoPkiSpec = {}): ByoPki {
  const root = makeRootCa({ organization: 'trustgate-test', commonName: 'BYO Root CA', pathLen: 1 });
  const intermediate = makeIntermediateCa(root, { organization: 'trustgate-test', commonName: 'BYO Issuing CA' });
  const leafKey = ecKeyPair(spec.curve ?? 'P-256');
  const leaf = issueCertificate(intermediate, {
    subject: seq(setOf(seq(oid(OIDS.commonName), printable('BYO Signer')))),
    publicKey: leafKey.publicKey,
    notBefore: spec.notBefore ?? CA_NOT_BEFORE,
    notAfter: spec.notAfter ?? CA_NOT_AFTER,
    extensions: [
      ext.keyUsage([0]),
      ext.extKeyUsage([OIDS.codeSigning]),
      ext.basicConstraints(false),
      ext.subjectKeyId(leafKey.publicKey),
      ext.authorityKeyId(intermediate.key.publicKey),
      ext.subjectAltName({ email: spec.email ?? 'release@byo.example', dns: spec.dns ?? 'signer.byo.example' }, false),
    ],
  });
  return { root, intermediate, leaf, leafKey, chainPem: leaf.pem + intermediate.cert.pem + root.cert.pem };
}
