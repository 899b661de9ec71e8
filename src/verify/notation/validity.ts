// Time checks: the signer's expiry (trust-store-trust-policy.md "Validate Expiry") and certificate
// validity at the time that counts ("Validate Trusted Timestamp"; signature-specification.md "Other
// requirements" 5–6): authenticSigningTime under notary.x509.signingAuthority; under notary.x509 the
// window of a verified RFC 3161 timestamp (timestamp.ts), else now.
import type { X509Certificate } from 'node:crypto';
import type { CertificateFacts } from './certificate-facts.ts';
import { oneLine } from './certificate-rules.ts';
import { fail } from './failure.ts';
import { formatTime } from './protected-header.ts';
import type { ProtectedHeader } from './protected-header.ts';
import { timestampText } from './timestamp.ts';
import type { VerifiedTimestamp } from './timestamp.ts';

/** "The artifact is considered expired when the current time is greater than or equal to expiry time." */
export function checkExpiry(header: ProtectedHeader, now: number): void {
  if (header.expiry !== undefined && now >= header.expiry) fail('expiry', `signature expired on ${formatTime(header.expiry)}`);
}

/**
 * Every certificate valid (bounds inclusive, RFC 5280 §4.1.2.5) at now, at authenticSigningTime, or
 * over the whole window of `timestamp` ("Validate Trusted Timestamp" 10: "entirely within" each validity).
 */
export function checkValidity(
  chain: readonly X509Certificate[],
  facts: readonly CertificateFacts[],
  header: ProtectedHeader,
  now: number,
  timestamp?: VerifiedTimestamp,
): void {
  const signingAuthority = header.scheme === 'notary.x509.signingAuthority';
  const at = signingAuthority ? header.authenticSigningTime! : now;
  const from = timestamp && !signingAuthority ? timestamp.from : at;
  const to = timestamp && !signingAuthority ? timestamp.to : at;
  let when = '';
  if (signingAuthority) when = ` at the authentic signing time ${formatTime(at)}`;
  else if (timestamp) when = ` at ${timestampText(timestamp)}`;
  facts.forEach((f, i) => {
    const who = `x5c[${i}] (${oneLine(chain[i]!.subject)})`;
    if (from < f.notBefore) fail('expiry', `certificate ${who} is not valid until ${formatTime(f.notBefore)}${when}`);
    if (to > f.notAfter) fail('expiry', `certificate ${who} expired on ${formatTime(f.notAfter)}${when}`);
  });
}

/**
 * When the signature stops counting: the envelope expiry, and under notary.x509 also the first
 * certificate expiry. Under signingAuthority the chain is judged at the signing time, so its
 * certificates expiring later does not end the signature; likewise the leaf and intermediates of a
 * notary.x509 chain judged at a verified timestamp, which keeps only the root's own expiry.
 */
export function signatureNotAfter(facts: readonly CertificateFacts[], header: ProtectedHeader, timestamped = false): number | undefined {
  let bounds: number[] = [];
  if (header.scheme === 'notary.x509') {
    // A verified timestamp proves the chain was valid when it signed: no certificate's expiry ends
    // the signature then (the root's trust-store entry still can, in policy).
    if (!timestamped) bounds = facts.map((f) => f.notAfter);
  }
  if (header.expiry !== undefined) bounds.push(header.expiry);
  return bounds.length === 0 ? undefined : Math.min(...bounds);
}
