// The x5c chain walk (signature-specification.md "Other requirements" 1–2; trust-store-trust-policy.md
// "Validate Authenticity"; docs/wire-formats.md "node:crypto and jose notes"): ordered leaf → … → root, no branches, no
// strays, ending in a self-signed root that is byte-for-byte a trust-store root.
import type { X509Certificate } from 'node:crypto';
import type { TrustedRoot } from '../types.ts';
import { oneLine } from './certificate-rules.ts';
import { fail } from './failure.ts';

/** Each certificate issued and signed by the next, the last self-signed; throws `authenticity`. */
export function checkChainOrder(chain: readonly X509Certificate[]): void {
  const last = chain.length - 1;
  for (let i = 0; i < last; i++) {
    const child = chain[i]!;
    const parent = chain[i + 1]!;
    const pair = `x5c[${i}] (${oneLine(child.subject)}) is not issued by x5c[${i + 1}] (${oneLine(parent.subject)})`;
    if (isSelfSigned(child)) {
      fail(
        'authenticity',
        `x5c[${i}] (${oneLine(child.subject)}) is self-signed but is not the last certificate; the chain must be leaf → intermediates → root`,
      );
    }
    // checkIssued compares names, AKI/SKI and the issuer's keyUsage, but never the signature.
    if (!signedBy(child, parent))
      fail('authenticity', `${pair}: the signature does not verify; the chain must be ordered leaf → intermediates → root`);
    if (!child.checkIssued(parent))
      fail('authenticity', `${pair}: issuer name, key identifier or the issuer's keyUsage (keyCertSign) do not match`);
  }
  const root = chain[last]!;
  if (!isSelfSigned(root))
    fail('authenticity', `no chain to a trusted root: the chain ends with ${oneLine(root.subject)}, which is not a self-signed root`);
}

/** The ids of the trust-store roots byte-equal to the chain's root; throws `authenticity` if none. */
export function trustedRootIds(chain: readonly X509Certificate[], roots: readonly TrustedRoot[]): string[] {
  const root = chain[chain.length - 1]!;
  const ids = roots.filter((r) => r.certificate.raw.equals(root.raw)).map((r) => r.id);
  if (ids.length === 0) {
    fail(
      'authenticity',
      `no chain to a trusted root: root ${oneLine(root.subject)} (sha256 ${root.fingerprint256.replaceAll(':', '').toLowerCase()}) is not in the trust store`,
    );
  }
  return ids;
}

/**
 * Same name and a valid self-signature. Not `checkIssued(self)`: OpenSSL's issuer check also wants
 * keyCertSign, which a single self-signed signing certificate (leaf rules apply) must not have.
 */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && signedBy(cert, cert);
}

/** `child` names `parent` as issuer (names, key identifiers, keyCertSign) and carries its valid signature. */
export function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return signedBy(child, parent) && child.checkIssued(parent);
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false; // e.g. a key type OpenSSL cannot verify with
  }
}
