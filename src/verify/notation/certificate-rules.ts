// Certificate requirements for the x5c chain and for a timestamp's TSA chain (signature-specification.md
// "Certificate Requirements"; docs/wire-formats.md "Certificate rules"). Only basicConstraints, keyUsage and EKU are evaluated.
import type { X509Certificate } from 'node:crypto';
import {
  KeyUsageFlags,
  anyExtendedKeyUsage,
  id_kp_clientAuth,
  id_kp_emailProtection,
  id_kp_serverAuth,
  id_kp_timeStamping,
} from '@peculiar/asn1-x509';
import { keyBits } from './algorithm.ts';
import { SHA1 } from './certificate-facts.ts';
import type { CertificateFacts } from './certificate-facts.ts';
import { fail } from './failure.ts';

const LEAF_FORBIDDEN_KEY_USAGE: ReadonlyArray<readonly [string, number]> = [
  ['keyEncipherment', KeyUsageFlags.keyEncipherment],
  ['dataEncipherment', KeyUsageFlags.dataEncipherment],
  ['keyAgreement', KeyUsageFlags.keyAgreement],
  ['keyCertSign', KeyUsageFlags.keyCertSign],
  ['cRLSign', KeyUsageFlags.cRLSign],
  ['encipherOnly', KeyUsageFlags.encipherOnly],
  ['decipherOnly', KeyUsageFlags.decipherOnly],
];
const LEAF_FORBIDDEN_EKU: ReadonlyArray<readonly [string, string]> = [
  ['anyExtendedKeyUsage', anyExtendedKeyUsage],
  ['serverAuth', id_kp_serverAuth],
  ['clientAuth', id_kp_clientAuth],
  ['emailProtection', id_kp_emailProtection],
  ['timeStamping', id_kp_timeStamping],
];
// "Other requirements" 3 forbids SHA1WithRSA and ECDSAWithSHA1; MD5/MD2 and DSA-SHA1 are weaker still.
const WEAK_SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
};

/** Throws `authenticity` naming the first certificate and rule broken. `facts[i]` describes `chain[i]`. */
export function checkCertificateRules(chain: readonly X509Certificate[], facts: readonly CertificateFacts[]): void {
  chain.forEach((cert, i) => {
    const f = facts[i]!;
    const where = `x5c[${i}] (${oneLine(cert.subject)})`;
    checkSignatureAlgorithm(f, where);
    checkKeyLength(cert, where);
    // "Other requirements" 1: a chain of one self-signed certificate follows the leaf rules only.
    if (i === 0) checkLeaf(f, where);
    else checkCa(f, where, i - 1);
  });
}

/**
 * The TSA chain of a timestamp (trust-store-trust-policy.md "Validate Trusted Timestamp" 3; RFC 3161 §2.3),
 * leaf first, ending with its trust-store root. Throws `authenticity`; the caller restates it.
 */
export function checkTimestampingRules(chain: readonly X509Certificate[], facts: readonly CertificateFacts[], name: string): void {
  chain.forEach((cert, i) => {
    const f = facts[i]!;
    const where = `${name}[${i}] (${oneLine(cert.subject)})`;
    checkSignatureAlgorithm(f, where);
    checkKeyLength(cert, where);
    if (i === 0) checkTimestampingLeaf(f, where);
    else checkCa(f, where, i - 1);
  });
}

/** RFC 3161 §2.3: extendedKeyUsage critical, timeStamping only; keyUsage with digitalSignature; not a CA. */
function checkTimestampingLeaf(f: CertificateFacts, where: string): void {
  const eku = f.extKeyUsage;
  if (!eku || eku.oids.length !== 1 || eku.oids[0] !== id_kp_timeStamping)
    fail('authenticity', `${where}: the TSA certificate's extendedKeyUsage must be timeStamping alone`);
  if (!eku.critical) fail('authenticity', `${where}: the TSA certificate's extendedKeyUsage must be critical`);
  if (!f.keyUsage || (f.keyUsage.bits & KeyUsageFlags.digitalSignature) === 0)
    fail('authenticity', `${where}: the TSA certificate's keyUsage must include digitalSignature`);
  if (f.basicConstraints?.ca) fail('authenticity', `${where}: the TSA certificate must not be a CA (basicConstraints cA=true)`);
}

function checkSignatureAlgorithm(f: CertificateFacts, where: string): void {
  const weak = WEAK_SIGNATURE_ALGORITHMS[f.signatureAlgorithm];
  if (weak) fail('authenticity', `${where} is signed with ${weak}; SHA-1 and weaker signatures are not allowed`);
  if (f.signatureHash === SHA1) fail('authenticity', `${where} is signed with RSASSA-PSS over SHA-1; SHA-1 signatures are not allowed`);
}

function checkKeyLength(cert: X509Certificate, where: string): void {
  const { kind, bits } = keyBits(cert.publicKey);
  if (kind === 'rsa' && bits < 2048) fail('authenticity', `${where} has an RSA ${bits}-bit key; at least 2048 bits are required`);
  if (kind === 'ec' && bits < 256)
    fail('authenticity', `${where} has an EC key on a ${bits ? `${bits}-bit` : 'unrecognised'} curve; at least 256 bits are required`);
}

/** "Leaf Certificates": keyUsage critical with digitalSignature only-ish, code-signing EKU, not a CA. */
function checkLeaf(f: CertificateFacts, where: string): void {
  const ku = f.keyUsage;
  if (!ku) fail('authenticity', `${where}: the signing certificate must have a keyUsage extension`);
  if (!ku.critical) fail('authenticity', `${where}: the signing certificate's keyUsage must be critical`);
  if ((ku.bits & KeyUsageFlags.digitalSignature) === 0)
    fail('authenticity', `${where}: the signing certificate's keyUsage must include digitalSignature`);
  const forbidden = LEAF_FORBIDDEN_KEY_USAGE.filter(([, bit]) => (ku.bits & bit) !== 0).map(([name]) => name);
  if (forbidden.length > 0) fail('authenticity', `${where}: the signing certificate's keyUsage must not include ${forbidden.join(', ')}`);
  const badEku = LEAF_FORBIDDEN_EKU.filter(([, oid]) => f.extKeyUsage?.oids.includes(oid)).map(([name]) => name);
  if (badEku.length > 0) fail('authenticity', `${where}: the signing certificate's extendedKeyUsage must not include ${badEku.join(', ')}`);
  if (f.basicConstraints?.ca) fail('authenticity', `${where}: the signing certificate must not be a CA (basicConstraints cA=true)`);
}

/** "Root and Intermediate CA Certificates". `below` counts the intermediates between it and the leaf. */
function checkCa(f: CertificateFacts, where: string, below: number): void {
  const bc = f.basicConstraints;
  if (!bc) fail('authenticity', `${where}: a CA certificate must have a basicConstraints extension`);
  if (!bc.critical) fail('authenticity', `${where}: a CA certificate's basicConstraints must be critical`);
  if (!bc.ca) fail('authenticity', `${where}: a CA certificate must have basicConstraints cA=true`);
  if (bc.pathLen !== undefined && below > bc.pathLen) {
    fail(
      'authenticity',
      `${where}: pathLenConstraint ${bc.pathLen} allows ${bc.pathLen} intermediate(s) below it, but the chain has ${below}`,
    );
  }
  const ku = f.keyUsage;
  if (!ku) fail('authenticity', `${where}: a CA certificate must have a keyUsage extension`);
  if (!ku.critical) fail('authenticity', `${where}: a CA certificate's keyUsage must be critical`);
  if ((ku.bits & KeyUsageFlags.keyCertSign) === 0) fail('authenticity', `${where}: a CA certificate's keyUsage must include keyCertSign`);
}

/** node's multi-line subject as one line, for messages. */
export function oneLine(subject: string): string {
  return subject.split('\n').join(', ');
}
