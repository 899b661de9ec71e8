// A cosign v2.6+/v3 sigstore bundle (OCI 1.1 referrer), verified with trusted public keys only
// (docs/wire-formats.md "Sigstore bundles"). Key-only policy: `tlogEntries` and `timestampVerificationData` are ignored,
// so a bundle without a transparency-log proof passes if its signature and subject check out;
// Rekor/TSA verification is a later issue. Keyless bundles (certificates) never pass for now.
import { createHash } from 'node:crypto';
import type { SignatureFinding, SigstoreBundle, Subject, TrustedKey, TrustMaterial } from '../types.ts';
import { verifyBundleDsse } from './bundle-dsse.ts';
import { verifyBundleMessage } from './bundle-message.ts';
import { failed, isRecord, parseJson } from './finding.ts';

export const BUNDLE_MEDIA_TYPES: readonly string[] = [
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
];
const OLD_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(?:\+json;version=|\.v)(0\.[0-2])(?:\+json)?$/;

export function verifySigstoreBundle(b: SigstoreBundle, subject: Subject, trust: TrustMaterial): SignatureFinding {
  const json = parseJson(b.bundle);
  if (!json.ok || !isRecord(json.value)) return failed(b, 'format', 'bundle is not a JSON object');
  const bundle = json.value;
  const mediaType = bundle['mediaType'];
  if (typeof mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.includes(mediaType)) return failed(b, 'format', mediaTypeProblem(mediaType));

  const material = bundle['verificationMaterial'];
  if (!isRecord(material)) return failed(b, 'format', 'bundle has no verificationMaterial');
  if (material['certificate'] != null || material['x509CertificateChain'] != null) {
    return failed(b, 'certificate_only', 'keyless/PKI bundle (certificate); only key-based bundles are accepted');
  }
  const publicKey = material['publicKey'];
  if (!isRecord(publicKey)) return failed(b, 'format', 'bundle verificationMaterial has no publicKey');
  const keys = orderByHint(trust.keys, publicKey['hint']);

  const dsse = bundle['dsseEnvelope'];
  const message = bundle['messageSignature'];
  if ((dsse == null) === (message == null)) return failed(b, 'format', 'bundle must hold exactly one of dsseEnvelope and messageSignature');
  return dsse != null ? verifyBundleDsse(b, dsse, subject, keys) : verifyBundleMessage(b, message, subject, keys);
}

function mediaTypeProblem(mediaType: unknown): string {
  if (typeof mediaType !== 'string') return 'bundle has no mediaType';
  const old = OLD_MEDIA_TYPE.exec(mediaType);
  if (old) return `bundle version ${old[1]} is older than the required 0.3`;
  return `bundle media type ${JSON.stringify(mediaType.slice(0, 100))} is not a sigstore bundle v0.3`;
}

/** cosign's hint is base64(sha256(SPKI DER)) (internal/key/svkeypair.go); it only orders the keys we try. */
function orderByHint(keys: readonly TrustedKey[], hint: unknown): readonly TrustedKey[] {
  if (typeof hint !== 'string' || hint === '') return keys;
  const matches = (key: TrustedKey): boolean => {
    try {
      const der = key.publicKey.export({ type: 'spki', format: 'der' });
      return createHash('sha256').update(der).digest('base64') === hint;
    } catch {
      return false;
    }
  };
  return [...keys.filter(matches), ...keys.filter((key) => !matches(key))];
}
