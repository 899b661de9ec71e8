// An independent Notary Project signer for tests: node:crypto only, never src/verify, so a verifier
// bug cannot hide behind a signer that shares its code. Formats: notaryproject
// signature-envelope-jws.md (envelope), signature-specification.md "Storage" (manifest), and
// distribution-spec "Referrers tag schema" (the fallback index). RFC 3161 countersignatures come from
// @sigstore/mock's TSA (real tokens, pkijs-made).
import { X509Certificate, constants, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { getManifest, putBlob, putManifest } from './registry-api.ts';
import type { Pushed } from './registry-api.ts';

// The PKI half of the signer (openssl CLI) lives beside it.
export { makeNotationPki } from './notation-pki.ts';

export const NOTATION_MT = {
  jws: 'application/jose+json',
  signature: 'application/vnd.cncf.notary.signature',
  payload: 'application/vnd.cncf.notary.payload.v1+json',
  empty: 'application/vnd.oci.empty.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
} as const;
export const NOTATION_THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';
const EMPTY = { mediaType: NOTATION_MT.empty, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };

export type NotationAlg = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
export interface NotationTarget {
  digest: string;
  size: number;
  mediaType: string;
}

export interface SignNotationOptions {
  leafKeyPem: string;
  /** PEM certificates, leaf first (x5c order). */
  chainPem: readonly string[];
  alg: NotationAlg;
  subject: NotationTarget;
  scheme?: 'notary.x509' | 'notary.x509.signingAuthority';
  /** signingTime (notary.x509) or authenticSigningTime (signingAuthority); default now. */
  signingTime?: Date;
  expiry?: Date;
  /** Merged into the protected header last; a value of `undefined` removes the member. */
  extraProtected?: Record<string, unknown>;
  /** Merged into the unprotected header last, likewise. */
  extraHeader?: Record<string, unknown>;
}

const HASH: Record<NotationAlg, { hash: string; bytes: number }> = {
  PS256: { hash: 'sha256', bytes: 32 },
  PS384: { hash: 'sha384', bytes: 48 },
  PS512: { hash: 'sha512', bytes: 64 },
  ES256: { hash: 'sha256', bytes: 32 },
  ES384: { hash: 'sha384', bytes: 48 },
  ES512: { hash: 'sha512', bytes: 64 },
};

/** RFC 3339 UTC, no fractional seconds. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The envelope bytes: JWS JSON flattened serialization, compact JSON. */
export function signNotation(o: SignNotationOptions): Buffer {
  const scheme = o.scheme ?? 'notary.x509';
  const time = rfc3339(o.signingTime ?? new Date());
  const timeHeader = scheme === 'notary.x509' ? 'io.cncf.notary.signingTime' : 'io.cncf.notary.authenticSigningTime';
  const crit = [
    'io.cncf.notary.signingScheme',
    ...(scheme === 'notary.x509' ? [] : [timeHeader]),
    ...(o.expiry ? ['io.cncf.notary.expiry'] : []),
  ];
  const header: Record<string, unknown> = {
    alg: o.alg,
    crit,
    cty: NOTATION_MT.payload,
    ...(o.expiry ? { 'io.cncf.notary.expiry': rfc3339(o.expiry) } : {}),
    'io.cncf.notary.signingScheme': scheme,
    [timeHeader]: time,
  };
  const protectedB64 = b64url(Buffer.from(JSON.stringify(sortKeys(merge(header, o.extraProtected)))));
  const payload = { targetArtifact: { mediaType: o.subject.mediaType, digest: o.subject.digest, size: o.subject.size } };
  const payloadB64 = b64url(Buffer.from(JSON.stringify(payload)));
  const unprotected = merge(
    {
      x5c: o.chainPem.map((pem) => new X509Certificate(pem).raw.toString('base64')),
      'io.cncf.notary.signingAgent': 'trustgate-test-kit/1',
    },
    o.extraHeader,
  );
  // RFC 7515 §5.1: the signing input is ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)).
  const signature = b64url(jwsSign(o.alg, o.leafKeyPem, `${protectedB64}.${payloadB64}`));
  return Buffer.from(JSON.stringify({ payload: payloadB64, protected: protectedB64, header: unprotected, signature }));
}

/** RFC 7518 §3.4/§3.5: ECDSA as raw r‖s; RSASSA-PSS with MGF1 and salt length = hash length. */
function jwsSign(alg: NotationAlg, keyPem: string, signingInput: string): Buffer {
  const { hash, bytes } = HASH[alg];
  const data = Buffer.from(signingInput, 'ascii');
  if (alg.startsWith('ES')) return sign(hash, data, { key: keyPem, dsaEncoding: 'ieee-p1363' });
  return sign(hash, data, { key: keyPem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bytes });
}

const b64url = (b: Buffer): string => b.toString('base64url'); // Node's base64url never pads

function merge(base: Record<string, unknown>, extra: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = { ...base, ...extra };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** notation-core-go marshals the protected header from a map, so Go sorts its keys. */
function sortKeys(h: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(h)
      .sort()
      .map((k) => [k, h[k]]),
  );
}

export const TIMESTAMP_HEADER = 'io.cncf.notary.timestampSignature';
const HASH_OIDS = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' } as const;
/** RFC 3628 §5.2 baseline time-stamp policy. */
export const BASELINE_TSA_POLICY = '0.4.0.2023.1.1';

export interface TimestampTokenOptions {
  /** The messageImprint hash (default sha256). */
  hash?: keyof typeof HASH_OIDS;
  /** Include the TSA certificate in the token (default true; notation's TSAs do). */
  certReq?: boolean;
  policy?: string;
}

/**
 * An RFC 3161 timestamp authority (@sigstore/mock): an ECDSA P-256 root and a timeStamping leaf that
 * share one key. Every token's genTime is `at`. The mock dates both certificates from the moment it is
 * created, for 365 days, whatever `at` is: a genTime before that falls outside the TSA chain.
 */
export interface NotationTsa {
  readonly at: Date;
  /** The self-signed TSA root: the trust-store `tsa` entry. */
  readonly rootPem: string;
  /** The TSA signing certificate (the mock's "intermediate"), as tokens carry it. */
  readonly leafPem: string;
  /** A TimeStampToken (RFC 3161 §2.4.2: the ContentInfo, not the response) over the hash of `data`. */
  token(data: Buffer, options?: TimestampTokenOptions): Promise<Buffer>;
}

export async function makeNotationTsa(at: Date): Promise<NotationTsa> {
  // Loaded on first use: @sigstore/mock installs a global Reflect metadata polyfill, which only TSA users should get.
  const { initializeTSA } = await import('@sigstore/mock');
  const tsa = await initializeTSA(generateKeyPairSync('ec', { namedCurve: 'P-256' }), at);
  const pem = (der: ArrayBufferView): string => new X509Certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength)).toString();
  return {
    at,
    rootPem: pem(tsa.rootCertificate),
    leafPem: pem(tsa.intCertificate),
    async token(data, options = {}) {
      const hash = options.hash ?? 'sha256';
      const response = await tsa.timestamp({
        artifactHash: createHash(hash).update(data).digest(),
        hashAlgorithmOID: HASH_OIDS[hash],
        nonce: Math.floor(Math.random() * 2 ** 31),
        policyOID: options.policy ?? BASELINE_TSA_POLICY,
        certReq: options.certReq ?? true,
      });
      return timeStampToken(Buffer.from(response.buffer, response.byteOffset, response.byteLength));
    },
  };
}

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }: the token's exact bytes. */
function timeStampToken(response: Buffer): Buffer {
  const tlv = (at: number): { content: number; end: number } => {
    const first = response[at + 1]!;
    const lengthBytes = first < 0x80 ? 0 : first & 0x7f;
    const length = lengthBytes === 0 ? first : response.readUIntBE(at + 2, lengthBytes);
    return { content: at + 2 + lengthBytes, end: at + 2 + lengthBytes + length };
  };
  const status = tlv(tlv(0).content);
  return response.subarray(status.end, tlv(status.end).end);
}

/** The JWS signature bytes of an envelope: what a countersignature's messageImprint hashes. */
export const notationSignatureBytes = (envelope: Buffer): Buffer =>
  Buffer.from((JSON.parse(envelope.toString('utf8')) as { signature: string }).signature, 'base64url');

/** The envelope with `token` (any bytes) as its io.cncf.notary.timestampSignature, standard base64. */
export function attachTimestamp(envelope: Buffer, token: Buffer): Buffer {
  const e = JSON.parse(envelope.toString('utf8')) as { header: Record<string, unknown> };
  e.header = { ...e.header, [TIMESTAMP_HEADER]: token.toString('base64') };
  return Buffer.from(JSON.stringify(e));
}

/** Countersigns the envelope's own signature (or `over`, to timestamp something else) and attaches the token. */
export async function timestampNotation(
  envelope: Buffer,
  tsa: NotationTsa,
  options: TimestampTokenOptions & { over?: Buffer } = {},
): Promise<Buffer> {
  return attachTimestamp(envelope, await tsa.token(options.over ?? notationSignatureBytes(envelope), options));
}

/** Lowercase-hex SHA-256 of each x5c certificate, leaf first (notation-go's annotation value). */
export function notationThumbprints(envelope: Buffer): string[] {
  const x5c = (JSON.parse(envelope.toString('utf8')) as { header: { x5c: string[] } }).header.x5c;
  return x5c.map((c) => createHash('sha256').update(Buffer.from(c, 'base64')).digest('hex'));
}

/** distribution-spec "Referrers tag schema": `<alg>-<hex>`, truncated, other characters → `-`. */
export function referrersTag(digest: string): string {
  const [alg = '', hex = ''] = digest.split(':');
  return `${alg.slice(0, 32)}-${hex.slice(0, 64)}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export interface PushedNotation {
  manifest: Pushed;
  manifestBytes: Buffer;
  index: Pushed;
  tag: string;
}

/**
 * Pushes the envelope as a current-form signature manifest (artifactType set, empty config), by
 * digest, then adds it to the referrers fallback index at `sha256-<hex>`: the Debian registry
 * (distribution 2.8) has no referrers API, so clients (oras-go, notation) read that tag instead.
 */
export async function pushNotationSignature(
  registryUrl: string,
  repository: string,
  subject: NotationTarget,
  envelope: Buffer,
  headers: Record<string, string> = {},
): Promise<PushedNotation> {
  const layer = await putBlob(registryUrl, repository, envelope, headers);
  await putBlob(registryUrl, repository, Buffer.from('{}'), headers);
  const annotations = { [NOTATION_THUMBPRINT_ANNOTATION]: JSON.stringify(notationThumbprints(envelope)) };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: NOTATION_MT.manifest,
      artifactType: NOTATION_MT.signature,
      config: EMPTY,
      layers: [{ mediaType: NOTATION_MT.jws, digest: layer.digest, size: layer.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
  const manifest = await putManifest(registryUrl, repository, digest, manifestBytes, NOTATION_MT.manifest, headers);
  const tag = referrersTag(subject.digest);
  const descriptor = {
    mediaType: NOTATION_MT.manifest,
    digest: manifest.digest,
    size: manifest.size,
    artifactType: NOTATION_MT.signature,
    annotations,
  };
  const existing = await getManifest(registryUrl, repository, tag, NOTATION_MT.index);
  const listed = existing ? ((JSON.parse(existing.toString('utf8')) as { manifests?: { digest: string }[] }).manifests ?? []) : [];
  const manifests = [...listed.filter((m) => m.digest !== descriptor.digest), descriptor];
  const indexBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: NOTATION_MT.index, manifests }));
  const index = await putManifest(registryUrl, repository, tag, indexBytes, NOTATION_MT.index, headers);
  return { manifest, manifestBytes, index, tag };
}
