// What @sigstore/verify does not check of a certificate path: what each certificate may be used for,
// and how long the whole path holds (docs/keyless.md "Verification").
import { ASN1Obj } from '@sigstore/core';
import type { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type { TrustMaterial as SigstoreTrustMaterial } from '@sigstore/verify';

const EXTENDED_KEY_USAGE = '2.5.29.37';
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const MAX_DEPTH = 8;

/**
 * The path @sigstore/verify accepted, leaf first, rebuilt by names from the CAs it was handed (their
 * chains already hold only trusted certificates and verified intermediates). Empty when none links.
 */
export function pathOf(leaf: SigstoreCertificate, material: SigstoreTrustMaterial): { path: SigstoreCertificate[]; end: Date | undefined } {
  for (const ca of material.certificateAuthorities) {
    const path = [leaf];
    for (let current = leaf; path.length <= MAX_DEPTH && !current.subject.equals(current.issuer);) {
      const issuer = ca.certChain.find((c) => c.subject.equals(current.issuer) && !path.includes(c));
      if (issuer === undefined) break;
      path.push(issuer);
      current = issuer;
    }
    const top = path[path.length - 1]!;
    if (path.length > 1 && top.subject.equals(top.issuer)) return { path, end: ca.validFor.end };
  }
  return { path: [], end: undefined };
}

/**
 * RFC 5280 §4.2.1.3 and §4.2.1.12 as cosign applies them (x509.Verify with KeyUsages
 * [CodeSigning]): a leaf with key usages must allow digitalSignature; any certificate on the path
 * that lists extended key usages must allow code signing (or any usage). So a TLS or S/MIME
 * certificate of the same PKI never signs an image.
 */
export function purposeProblem(path: readonly SigstoreCertificate[]): string | undefined {
  const [leaf] = path;
  if (leaf === undefined) return 'the certificate path could not be rebuilt';
  if (leaf.extKeyUsage !== undefined && !leaf.extKeyUsage.digitalSignature)
    return 'the signing certificate may not make digital signatures (keyUsage)';
  for (const [i, certificate] of path.entries()) {
    const usages = extendedKeyUsages(certificate);
    if (usages !== undefined && !usages.includes(CODE_SIGNING) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
      return `${i === 0 ? 'the signing certificate' : 'a CA on its path'} is not for code signing (extendedKeyUsage)`;
    }
  }
  return undefined;
}

/** When the path stops holding: the earliest notAfter on it, and the end of the CA's validity in the root. */
export function pathNotAfter(path: readonly SigstoreCertificate[], end: Date | undefined): number {
  return Math.min(...path.map((c) => c.notAfter.getTime()), end?.getTime() ?? Infinity);
}

function extendedKeyUsages(certificate: SigstoreCertificate): string[] | undefined {
  const extension = certificate.extension(EXTENDED_KEY_USAGE);
  if (extension === undefined) return undefined;
  return ASN1Obj.parseBuffer(Buffer.from(extension.value)).subs.map((s) => s.toOID());
}
