// RFC 3161 countersignatures on notary.x509 signatures (signature-specification.md "Signature Envelope"
// unsigned attribute "Timestamp signature"; trust-store-trust-policy.md "Validate Trusted Timestamp"). The
// JWS header io.cncf.notary.timestampSignature carries a TimeStampToken (RFC 3161 §2.4.2), a CMS SignedData
// (RFC 5652 §5) over a TSTInfo whose messageImprint is the hash of the JWS signature bytes.
//
// @sigstore/core's RFC3161Timestamp reads the token's content types, TSTInfo imprint and signer; its
// verify() is not used: it knows ECDSA only, and checks neither the contentType nor the ESS
// signing-certificate attribute. Certificates, signed attributes, genTime (any fraction) and accuracy are
// read here with its ASN1Obj.
// Revocation (OCSP/CRL) of the TSA chain is not checked, as for the signing chain.
import { constants, createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ASN1Obj, RFC3161Timestamp, X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type { TrustedRoot } from '../types.ts';
import { readCertificateFacts } from './certificate-facts.ts';
import { checkTimestampingRules, oneLine } from './certificate-rules.ts';
import { issuedBy } from './chain.ts';
import { MAX_CHAIN_LENGTH, TIMESTAMP_HEADER } from './envelope.ts';
import { fail, NotationCheckError } from './failure.ts';
import { formatTime } from './protected-header.ts';

/** A countersignature that verified: the signing chain is judged over [from, to] instead of now. */
export interface VerifiedTimestamp {
  /** The trust-store TSA root the TSA chain leads to. */
  readonly authority: string;
  /** TSTInfo.genTime, epoch ms. */
  readonly at: number;
  /** genTime − accuracy and genTime + accuracy (RFC 3161 §2.4.2), epoch ms. */
  readonly from: number;
  readonly to: number;
}

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  // RFC 3628 §5.2 baseline time-stamp policy: accuracy of at least one second.
  baselinePolicy: '0.4.0.2023.1.1',
} as const;

const SHA2: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** CMS signature algorithms accepted for the TSA signature: [padding, hash or undefined to take the digestAlgorithm]. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, readonly ['ecdsa' | 'pkcs1', string | undefined]>> = {
  '1.2.840.10045.2.1': ['ecdsa', undefined], // id-ecPublicKey (RFC 5753 §2.1.1 allows it as signatureAlgorithm)
  '1.2.840.10045.4.3.2': ['ecdsa', 'sha256'],
  '1.2.840.10045.4.3.3': ['ecdsa', 'sha384'],
  '1.2.840.10045.4.3.4': ['ecdsa', 'sha512'],
  '1.2.840.113549.1.1.1': ['pkcs1', undefined], // rsaEncryption (RFC 3370 §3.2)
  '1.2.840.113549.1.1.11': ['pkcs1', 'sha256'],
  '1.2.840.113549.1.1.12': ['pkcs1', 'sha384'],
  '1.2.840.113549.1.1.13': ['pkcs1', 'sha512'],
};

// DER identifier octets.
const INTEGER = 0x02;
const SEQUENCE = 0x30;
const SET = 0x31;
const CONTEXT_0_CONSTRUCTED = 0xa0;
const CONTEXT_0 = 0x80;
const CONTEXT_1 = 0x81;
const GENERALIZED_TIME = 0x18;

/**
 * Verifies the countersignature `value` (the header member as received) over `signature` (the JWS
 * signature bytes) against the trust store's TSA roots. Throws `timestamp_invalid` naming the first
 * problem; never anything else.
 */
export function verifyTimestamp(value: unknown, signature: Buffer, tsaRoots: readonly TrustedRoot[], now: number): VerifiedTimestamp {
  try {
    return verify(value, signature, tsaRoots, now);
  } catch (err) {
    if (err instanceof NotationCheckError) {
      if (err.kind === 'timestamp_invalid') throw err;
      invalid(err.message); // a certificate rule (authenticity) broken by the TSA chain
    }
    // The getters walk the ASN.1 tree by position; a token of another shape ends up here.
    invalid(`malformed TimeStampToken (${err instanceof Error ? err.message : String(err)})`);
  }
}

function invalid(message: string): never {
  fail('timestamp_invalid', `timestamp: ${message}`);
}

function verify(value: unknown, signature: Buffer, tsaRoots: readonly TrustedRoot[], now: number): VerifiedTimestamp {
  // trust-store-trust-policy.md trust stores: `tsa` roots are the only anchors a timestamp may lead to.
  if (tsaRoots.length === 0) invalid('the trust store has no TSA roots (kind tsa) to verify it against');
  const { token, signedData } = parseToken(decodeToken(value));
  const tst = token.tstInfo.root;

  // RFC 3161 §2.4.2: TSTInfo version 1; messageImprint is the hash of the timestamped data.
  if (tst.subs[0]!.toInteger() !== 1n) invalid(`TSTInfo version ${tst.subs[0]!.toInteger()} is not 1`);
  const imprintOid = tst.subs[2]!.subs[0]!.subs[0]!.toOID();
  const imprintHash = SHA2[imprintOid];
  if (!imprintHash) invalid(`the message imprint uses hash ${imprintOid}; SHA-256, SHA-384 or SHA-512 is required`);
  // trust-store-trust-policy.md "Validate Trusted Timestamp" 2: the imprint is the hash of this signature.
  if (!createHash(imprintHash).update(signature).digest().equals(token.tstInfo.messageImprintHashedMessage))
    invalid(`the message imprint is not the ${imprintHash.toUpperCase()} hash of this signature: the token timestamps other data`);
  const time = readTime(tst);

  const signerInfo = singleSignerInfo(signedData);
  const certificates = tokenCertificates(signedData);
  const leaf = signerCertificate(token, signerInfo, certificates);
  checkSignedAttributes(signedData, signerInfo, token, leaf);
  checkSignature(signerInfo, token, leaf.publicKey);

  // "Validate Trusted Timestamp" 4–5: the TSA chain follows the timestamping rules and ends in a trusted TSA root.
  const { chain, authority } = tsaChain(leaf, certificates, tsaRoots);
  const facts = chain.map((cert, i) => readCertificateFacts(cert, i, TSA_CHAIN));
  checkTimestampingRules(chain, facts, TSA_CHAIN);
  // RFC 3161 §2.4.2 accuracy: the whole window [genTime − accuracy, genTime + accuracy] inside each validity.
  facts.forEach((f, i) => {
    const who = `${TSA_CHAIN}[${i}] (${oneLine(chain[i]!.subject)})`;
    if (time.from < f.notBefore) invalid(`${who} is not valid until ${formatTime(f.notBefore)}, after ${timestampText(time)}`);
    if (time.to > f.notAfter) invalid(`${who} expired on ${formatTime(f.notAfter)}, before ${timestampText(time)}`);
  });
  // A TSA vouches for the past: a time after now is no evidence of anything yet.
  if (time.from > now) invalid(`${timestampText(time)} is after the verification time ${formatTime(now)}`);
  return { authority, ...time };
}

const TSA_CHAIN = 'TSA chain';

/** The timestamp as it reads in messages: genTime, with its accuracy when there is one. */
export function timestampText(t: Pick<VerifiedTimestamp, 'at' | 'from' | 'to'>): string {
  const accuracy = Math.max(t.at - t.from, t.to - t.at);
  return `the timestamp ${formatTime(t.at)}${accuracy > 0 ? ` ± ${accuracy / 1000}s` : ''}`;
}

const BASE64_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** signature-envelope-jws.md: the unprotected header member is the token's DER, standard base64 (Go []byte). */
function decodeToken(value: unknown): Buffer<ArrayBuffer> {
  if (typeof value !== 'string' || value.length === 0 || !BASE64_STD.test(value))
    invalid(`header ${TIMESTAMP_HEADER} is not a standard base64 string`);
  return Buffer.from(value, 'base64');
}

/**
 * The token as RFC3161Timestamp reads it (that class parses a TimeStampResp, so the token is wrapped in a
 * granted one), and its SignedData, once the positions that class and this module rely on hold what they should.
 */
function parseToken(der: Buffer<ArrayBuffer>): { token: RFC3161Timestamp; signedData: ASN1Obj } {
  let root: ASN1Obj;
  try {
    root = ASN1Obj.parseBuffer(der);
  } catch (err) {
    invalid(`not a DER TimeStampToken (${err instanceof Error ? err.message : String(err)})`);
  }
  // Every byte hashed or verified below is re-encoded from this tree; only exact DER makes it what was sent.
  if (!root.toDER().equals(der)) invalid('not a single DER-encoded TimeStampToken');
  // RFC 5652 §3 ContentInfo { contentType, [0] EXPLICIT content }; §5.1 SignedData { version,
  // digestAlgorithms, encapContentInfo { eContentType, [0] EXPLICIT eContent }, [0] certificates?, [1] crls?, signerInfos }.
  const content = root.subs[1];
  const signedData = content?.subs[0];
  const encap = signedData?.subs[2];
  if (
    root.tag.toDER() !== SEQUENCE ||
    root.subs.length !== 2 ||
    content?.tag.toDER() !== CONTEXT_0_CONSTRUCTED ||
    content.subs.length !== 1 ||
    signedData?.tag.toDER() !== SEQUENCE ||
    signedData.subs.length < 4 ||
    encap?.tag.toDER() !== SEQUENCE ||
    encap.subs.length !== 2
  )
    invalid('not a TimeStampToken: a ContentInfo holding a SignedData');
  const granted = ASN1Obj.parseBuffer(Buffer.from([SEQUENCE, 3, 0x02, 1, 0])); // PKIStatusInfo { status granted }
  const token = new RFC3161Timestamp(new ASN1Obj(root.tag, Buffer.alloc(0), [granted, root]));
  // RFC 3161 §2.4.2: a ContentInfo of SignedData whose eContent is a TSTInfo.
  if (token.contentType !== OID.signedData) invalid(`content type ${token.contentType} is not SignedData`);
  if (token.eContentType !== OID.tstInfo) invalid(`encapsulated content type ${token.eContentType} is not TSTInfo`);
  const eContent = encap.subs[1]!;
  if (eContent.tag.toDER() !== CONTEXT_0_CONSTRUCTED || eContent.subs.length !== 1 || !eContent.subs[0]!.tag.isOctetString())
    invalid('the encapsulated content is not an OCTET STRING');
  if (eContent.subs[0]!.subs.length !== 1 || eContent.subs[0]!.subs[0]!.tag.toDER() !== SEQUENCE)
    invalid('the encapsulated content is not a single TSTInfo');
  return { token, signedData };
}

/** genTime and the accuracy window around it (RFC 3161 §2.4.2; trust-store-trust-policy.md "Validate Trusted Timestamp" 8–9). */
function readTime(tst: ASN1Obj): Pick<VerifiedTimestamp, 'at' | 'from' | 'to'> {
  const genTime = tst.subs[4]!;
  if (genTime.tag.toDER() !== GENERALIZED_TIME) invalid('genTime is not a GeneralizedTime');
  const text = genTime.value.toString('latin1');
  // YYYYMMDDhhmmss[.s…]Z (RFC 3161 also forbids trailing zeros in the fraction; they change nothing here).
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!m) invalid(`genTime ${JSON.stringify(text)} is not YYYYMMDDhhmmss[.fraction]Z`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7) as [string, string, string, string, string, string];
  const fraction = m[7] ?? '';
  const seconds = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (!new Date(seconds).toISOString().startsWith(`${year}-${month}-${day}T${hour}:${minute}:${second}`))
    invalid(`genTime ${text} is not a calendar time`);
  const at = seconds + Number(fraction.slice(0, 3).padEnd(3, '0'));
  const finer = /[1-9]/.test(fraction.slice(3)) ? 1 : 0; // below a millisecond: widen the window upwards by one

  const accuracyObj = tst.subs.slice(5).find((sub) => sub.tag.toDER() === SEQUENCE);
  let accuracy: number;
  if (accuracyObj) accuracy = readAccuracy(accuracyObj);
  else accuracy = tst.subs[1]!.toOID() === OID.baselinePolicy ? 1000 : 0;
  return { at, from: at - accuracy, to: at + finer + accuracy };
}

/** Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] 1..999 OPTIONAL, micros [1] 1..999 OPTIONAL }, in ms (micros rounded up). */
function readAccuracy(accuracy: ASN1Obj): number {
  let ms = 0;
  for (const part of accuracy.subs) {
    const tag = part.tag.toDER();
    const n = unsigned(part.value);
    if (tag === INTEGER) ms += n * 1000;
    else if (tag === CONTEXT_0 && n >= 1 && n <= 999) ms += n;
    else if (tag === CONTEXT_1 && n >= 1 && n <= 999) ms += Math.ceil(n / 1000);
    else invalid('the TSTInfo accuracy is malformed');
  }
  return ms;
}

function unsigned(bytes: Buffer): number {
  if (bytes.length === 0 || bytes.length > 4 || (bytes[0]! & 0x80) !== 0) invalid('the TSTInfo accuracy is malformed');
  return bytes.readUIntBE(0, bytes.length);
}

/** RFC 3161 §2.4.2: the token "MUST NOT contain any signatures other than the signature of the TSA". */
function singleSignerInfo(signedData: ASN1Obj): ASN1Obj {
  const signerInfos = signedData.subs[signedData.subs.length - 1]!;
  if (signerInfos.tag.toDER() !== SET || signerInfos.subs.length !== 1)
    invalid(`the token must have exactly one SignerInfo, it has ${signerInfos.subs.length}`);
  const signerInfo = signerInfos.subs[0]!;
  // version, sid, digestAlgorithm, signedAttrs [0], signatureAlgorithm, signature, unsignedAttrs [1]?
  if (signerInfo.subs[3]?.tag.toDER() !== CONTEXT_0_CONSTRUCTED) invalid('the SignerInfo has no signed attributes');
  if (!signerInfo.subs[5]?.tag.isOctetString()) invalid('the SignerInfo has no signature');
  return signerInfo;
}

/** RFC 5652 §5.1: certificates [0] IMPLICIT CertificateSet; only X.509 certificates (SEQUENCEs) are kept. */
function tokenCertificates(signedData: ASN1Obj): Buffer<ArrayBuffer>[] {
  const set = signedData.subs.slice(3, -1).find((sub) => sub.tag.toDER() === CONTEXT_0_CONSTRUCTED);
  return (set?.subs ?? []).filter((c) => c.tag.toDER() === SEQUENCE).map((c) => Buffer.from(c.toDER()));
}

/** RFC 5652 §5.3 sid: issuerAndSerialNumber or [0] subjectKeyIdentifier, matched among the token's certificates. */
function signerCertificate(token: RFC3161Timestamp, signerInfo: ASN1Obj, certificates: readonly Buffer<ArrayBuffer>[]): X509Certificate {
  const sid = signerInfo.subs[1]!;
  const bySki = sid.tag.isContextSpecific(0);
  const match = certificates.find((der) => {
    try {
      const cert = SigstoreCertificate.parse(der);
      if (bySki) return cert.extSubjectKeyID?.keyIdentifier.equals(sid.value) ?? false;
      return cert.issuer.equals(token.signerIssuer) && cert.serialNumber.equals(token.signerSerialNumber);
    } catch {
      return false; // another certificate the parser cannot read is not the signer's
    }
  });
  if (!match) {
    const who = bySki ? `subject key identifier ${sid.value.toString('hex')}` : `serial ${token.signerSerialNumber.toString('hex')}`;
    invalid(`the token carries no certificate for its signer (${who}); the TSA certificate must be included`);
  }
  return new X509Certificate(match);
}

/**
 * RFC 5652 §5.4 / §11: contentType is TSTInfo and messageDigest the digest of the eContent octets;
 * RFC 3161 §2.4.1 (RFC 2634 / RFC 5035): the ESS signing-certificate attribute names the TSA certificate
 * (trust-store-trust-policy.md "Validate Trusted Timestamp" 5).
 */
function checkSignedAttributes(signedData: ASN1Obj, signerInfo: ASN1Obj, token: RFC3161Timestamp, leaf: X509Certificate): void {
  const attrs = signerInfo.subs[3]!;
  const contentType = singleAttribute(attrs, OID.contentType, 'contentType');
  if (!contentType?.tag.isOID() || contentType.toOID() !== OID.tstInfo) invalid('the signed contentType attribute is not TSTInfo');

  const digestName = token.signerDigestAlgorithm;
  if (!digestName) invalid(`the SignerInfo digest algorithm ${signerInfo.subs[2]!.subs[0]!.toOID()} is not SHA-256, SHA-384 or SHA-512`);
  const messageDigest = singleAttribute(attrs, OID.messageDigest, 'messageDigest');
  const eContent = signedData.subs[2]!.subs[1]!.subs[0]!.value; // the OCTET STRING's octets as received
  if (!messageDigest?.tag.isOctetString() || !createHash(digestName).update(eContent).digest().equals(messageDigest.value))
    invalid('the signed messageDigest attribute does not match the TSTInfo');

  const v2 = singleAttribute(attrs, OID.signingCertificateV2, 'signingCertificateV2');
  const v1 = v2 ? undefined : singleAttribute(attrs, OID.signingCertificate, 'signingCertificate');
  if (!v2 && !v1) invalid('the token has no signing-certificate (ESS) attribute naming the TSA certificate');
  // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), … }; the first names the signer.
  const first = (v2 ?? v1)!.subs[0]?.subs[0];
  if (!first || first.tag.toDER() !== SEQUENCE) invalid('the signing-certificate attribute is malformed');
  let hashName: string | undefined = 'sha1';
  let certHash = first.subs[0];
  if (v2) {
    // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash, issuerSerial OPTIONAL }
    const explicit = first.subs[0]?.tag.toDER() === SEQUENCE;
    hashName = explicit ? SHA2[first.subs[0]!.subs[0]!.toOID()] : 'sha256';
    certHash = explicit ? first.subs[1] : first.subs[0];
    if (!hashName) invalid('the signing-certificate-v2 attribute uses a hash other than SHA-256, SHA-384 or SHA-512');
  }
  if (!certHash?.tag.isOctetString()) invalid('the signing-certificate attribute is malformed');
  if (!createHash(hashName).update(leaf.raw).digest().equals(certHash.value))
    invalid(`the signing-certificate attribute does not name the TSA certificate (${oneLine(leaf.subject)})`);
}

/** The one value of the one attribute `oid`, or undefined when absent; RFC 5652 §11 allows neither twice. */
function singleAttribute(attrs: ASN1Obj, oid: string, name: string): ASN1Obj | undefined {
  const found = attrs.subs.filter((a) => a.subs[0]?.tag.isOID() && a.subs[0].toOID() === oid);
  if (found.length === 0) return undefined;
  const values = found[0]!.subs[1];
  if (found.length > 1 || values?.tag.toDER() !== SET || values.subs.length !== 1)
    invalid(`the ${name} attribute must have exactly one value`);
  return values.subs[0];
}

/** RFC 5652 §5.4: the signature is over the DER of the signed attributes as a SET OF. */
function checkSignature(signerInfo: ASN1Obj, token: RFC3161Timestamp, key: KeyObject): void {
  const oid = signerInfo.subs[4]!.subs[0]!.toOID();
  const algorithm = SIGNATURE_ALGORITHMS[oid];
  if (!algorithm) invalid(`signature algorithm ${oid} is not supported (ECDSA or RSA PKCS #1 v1.5 with SHA-256/384/512)`);
  const [padding, hash = token.signerDigestAlgorithm] = algorithm;
  const keyType = padding === 'ecdsa' ? 'ec' : 'rsa';
  if (key.asymmetricKeyType !== keyType)
    invalid(`signature algorithm ${oid} does not fit the TSA certificate's ${key.asymmetricKeyType} key`);
  const signed = signerInfo.subs[3]!.toDER();
  signed[0] = SET;
  let ok = false;
  try {
    const verifyKey = padding === 'pkcs1' ? { key, padding: constants.RSA_PKCS1_PADDING } : key;
    ok = verifySignature(hash, signed, verifyKey, token.signatureValue);
  } catch {
    ok = false; // e.g. an RSA algorithm with an EC key
  }
  if (!ok) invalid("the TSA's signature does not verify with its certificate's key");
}

/** The TSA certificate, the token's intermediates it needs, and the trust-store TSA root they lead to. */
function tsaChain(
  leaf: X509Certificate,
  certificates: readonly Buffer[],
  tsaRoots: readonly TrustedRoot[],
): { chain: X509Certificate[]; authority: string } {
  const pool = certificates.flatMap((der) => {
    try {
      return [new X509Certificate(der)];
    } catch {
      return []; // unreadable: cannot be a link
    }
  });
  const chain = [leaf];
  while (chain.length <= MAX_CHAIN_LENGTH) {
    const current = chain[chain.length - 1]!;
    const pinned = tsaRoots.find((r) => r.certificate.raw.equals(current.raw));
    if (pinned) return { chain, authority: pinned.id };
    const anchor = tsaRoots.find((r) => issuedBy(current, r.certificate));
    if (anchor) return { chain: [...chain, anchor.certificate], authority: anchor.id };
    const parent = pool.find((c) => !chain.some((link) => link.raw.equals(c.raw)) && issuedBy(current, c));
    if (!parent) break;
    chain.push(parent);
  }
  invalid(`the TSA certificate (${oneLine(leaf.subject)}) does not chain to a trust-store TSA root`);
}
