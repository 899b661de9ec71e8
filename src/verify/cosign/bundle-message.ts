// The messageSignature half of a bundle: a plain signature over the subject bytes (the manifest),
// with the digest the signer claims (sigstore bundle `MessageSignature`; docs/wire-formats.md "Sigstore bundles").
import type { SignatureFinding, Subject, TrustedKey } from '../types.ts';
import { decodeAnyBase64 } from './base64.ts';
import { failed, isRecord, noKeyVerified, shortDigest, tryKeys } from './finding.ts';
import type { Origin } from './finding.ts';

export function verifyBundleMessage(origin: Origin, message: unknown, subject: Subject, keys: readonly TrustedKey[]): SignatureFinding {
  const checked = checkMessageDigest(origin, message, subject);
  if (!('signature' in checked)) return checked;
  const { verifiedBy, ed25519ph } = tryKeys(keys, subject.bytes, [checked.signature]);
  if (verifiedBy.length === 0) return noKeyVerified(origin, ed25519ph, keys.length);
  return { scheme: origin.scheme, source: origin.source, verifiedBy };
}

/**
 * The shape of a messageSignature and its claimed digest against the served manifest. For a
 * certificate bundle this is the whole content check: @sigstore/verify verifies the signature over
 * the manifest bytes and binds the log entry to the claimed digest, so the two must agree.
 */
export function checkMessageDigest(origin: Origin, message: unknown, subject: Subject): { readonly signature: Buffer } | SignatureFinding {
  if (!isRecord(message)) return failed(origin, 'format', 'messageSignature is not an object');
  const messageDigest = message['messageDigest'];
  if (!isRecord(messageDigest)) return failed(origin, 'format', 'messageSignature has no messageDigest');
  if (messageDigest['algorithm'] !== 'SHA2_256') return failed(origin, 'format', 'messageDigest algorithm is not SHA2_256');
  const digest = typeof messageDigest['digest'] === 'string' ? decodeAnyBase64(messageDigest['digest']) : undefined;
  if (digest === undefined || digest.length !== 32) return failed(origin, 'format', 'messageDigest digest is not a base64 SHA-256');
  const signature = typeof message['signature'] === 'string' ? decodeAnyBase64(message['signature']) : undefined;
  if (signature === undefined || signature.length === 0) return failed(origin, 'format', 'messageSignature signature is not base64');

  // The claimed digest is checked first: it is unauthenticated, but a mismatch names the real
  // problem (a signature for another manifest) better than the crypto failure it implies.
  const claimed = `sha256:${digest.toString('hex')}`;
  if (claimed !== subject.digest) return failed(origin, 'digest', `signed for ${shortDigest(claimed)} not ${shortDigest(subject.digest)}`);
  return { signature };
}
