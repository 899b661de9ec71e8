// Time checks: the signer's expiry (trust-store-trust-policy.md "Validate Expiry") and certificate
// validity at the time that counts ("Validate Trusted Timestamp"; signature-specification.md "Other
// requirements" 5–6). No RFC 3161 timestamps yet, so under notary.x509 that time is always now.
import type { X509Certificate } from 'node:crypto';
import type { CertificateFacts } from './certificate-facts.ts';
import { oneLine } from './certificate-rules.ts';
import { fail } from './failure.ts';
import { formatTime } from './protected-header.ts';
import type { ProtectedHeader } from './protected-header.ts';

/** "The artifact is considered expired when the current time is greater than or equal to expiry time." */
export function checkExpiry(header: ProtectedHeader, now: number): void {
  if (header.expiry !== undefined && now >= header.expiry) fail('expiry', `signature expired on ${formatTime(header.expiry)}`);
}

/** Every certificate valid (bounds inclusive, RFC 5280 §4.1.2.5) at now, or at authenticSigningTime. */
export function checkValidity(
  chain: readonly X509Certificate[],
  facts: readonly CertificateFacts[],
  header: ProtectedHeader,
  now: number,
): void {
  const signingAuthority = header.scheme === 'notary.x509.signingAuthority';
  const at = signingAuthority ? header.authenticSigningTime! : now;
  const when = signingAuthority ? ` at the authentic signing time ${formatTime(at)}` : '';
  facts.forEach((f, i) => {
    const who = `x5c[${i}] (${oneLine(chain[i]!.subject)})`;
    if (at < f.notBefore) fail('expiry', `certificate ${who} is not valid until ${formatTime(f.notBefore)}${when}`);
    if (at > f.notAfter) fail('expiry', `certificate ${who} expired on ${formatTime(f.notAfter)}${when}`);
  });
}

/**
 * When the signature stops counting: the envelope expiry, and under notary.x509 also the first
 * certificate expiry. Under signingAuthority the chain is judged at the signing time, so its
 * certificates expiring later does not end the signature.
 */
export function signatureNotAfter(facts: readonly CertificateFacts[], header: ProtectedHeader): number | undefined {
  const bounds = header.scheme === 'notary.x509' ? facts.map((f) => f.notAfter) : [];
  if (header.expiry !== undefined) bounds.push(header.expiry);
  return bounds.length === 0 ? undefined : Math.min(...bounds);
}
