// When a trust entry's certificates stop vouching for new signatures (`trustgate doctor`). Keys
// have no certificate and no such date; an entry's own notAfter window is another matter.
import { X509Certificate } from 'node:crypto';
import { parseTrustedRoot, pemTrustedRoot } from './sigstore-root.ts';
import type { TrustEntry } from './types.ts';

export interface CertificateExpiry {
  /** Epoch ms. */
  readonly notAfter: number;
  /** Which certificate, for messages: its subject. */
  readonly subject: string;
}

/**
 * A notation root or a TSA root: its certificate's notAfter. A sigstore-root: the latest moment
 * one of its CA chains still holds (each chain until its first certificate expires; old CAs that
 * expired long ago are normal in a trusted root, and verify signatures made in their time).
 * Undefined for a key, a root without CAs (logs only), or material that does not parse.
 */
export function certificateExpiry(entry: TrustEntry): CertificateExpiry | undefined {
  try {
    if (entry.kind === 'key') return undefined;
    if (entry.kind !== 'sigstore-root') return expiryOf(new X509Certificate(entry.pem));
    const root = entry.trustedRoot !== undefined ? parseTrustedRoot(entry.trustedRoot) : pemTrustedRoot(entry.pem);
    const chains = root.certificateAuthorities.map((ca) =>
      (ca.certChain?.certificates ?? [])
        .map((c) => expiryOf(new X509Certificate(c.rawBytes)))
        .reduce<CertificateExpiry | undefined>(
          (first, next) => (first === undefined || next.notAfter < first.notAfter ? next : first),
          undefined,
        ),
    );
    return chains.reduce<CertificateExpiry | undefined>(
      (last, next) => (next !== undefined && (last === undefined || next.notAfter > last.notAfter) ? next : last),
      undefined,
    );
  } catch {
    return undefined;
  }
}

function expiryOf(certificate: X509Certificate): CertificateExpiry {
  return { notAfter: Date.parse(certificate.validTo), subject: certificate.subject.replace(/\n/g, ', ') };
}
