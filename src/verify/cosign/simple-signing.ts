// A cosign tag-based signature (one layer of `sha256-<hex>.sig`): cosign `verifyOCISignature` +
// `SimpleClaimVerifier` (docs/wire-formats.md "The .sig tag" to "Signature bytes and keys"). With a
// certificate it is keyless or PKI and is judged as a sigstore bundle (docs/keyless.md); with a key,
// a Rekor SET in `dev.sigstore.cosign/bundle` is verified as log evidence for rules that ask for it.
import type { CosignSignature, SignatureFinding, Subject, TrustMaterial } from '../types.ts';
import { BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, cosignLayerBundle } from '../sigstore/cosign-annotations.ts';
import { verifyCertificateBundle, verifyKeyLogEntries } from '../sigstore/verify-sigstore.ts';
import { certificateFinding, withKeyLogs } from '../sigstore/certificate-finding.ts';
import { decodeStdBase64 } from './base64.ts';
import { failed, noKeyVerified, shortDigest, tryKeys } from './finding.ts';
import { parseSimpleSigningPayload } from './simple-signing-payload.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export { CERTIFICATE_ANNOTATION };

export function verifyCosignSignature(sig: CosignSignature, subject: Subject, trust: TrustMaterial, now: number): SignatureFinding {
  if (sig.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) {
    return failed(sig, 'format', `layer media type ${JSON.stringify(sig.mediaType.slice(0, 100))} is not cosign simple signing`);
  }
  const encoded = sig.annotations[SIGNATURE_ANNOTATION];
  if (typeof encoded !== 'string' || encoded === '') return failed(sig, 'format', `no ${SIGNATURE_ANNOTATION} annotation`);
  const signature = decodeStdBase64(encoded);
  if (signature === undefined || signature.length === 0) return failed(sig, 'format', 'signature annotation is not valid base64');

  const hasCertificate = sig.annotations[CERTIFICATE_ANNOTATION] !== undefined;
  const converted =
    hasCertificate || sig.annotations[BUNDLE_ANNOTATION] !== undefined
      ? cosignLayerBundle(sig.annotations, sig.payload, signature)
      : undefined;
  if (converted !== undefined && !converted.ok) return failed(sig, 'format', converted.message);

  // A trusted key that verifies the bytes decides, certificate or not (cosign verify --key ignores
  // the certificate); otherwise a certificate makes it a keyless or PKI signature.
  const { verifiedBy, ed25519ph } = tryKeys(trust.keys, sig.payload, [signature]);
  if (verifiedBy.length === 0 && hasCertificate && converted?.ok) {
    const outcome = verifyCertificateBundle(converted.bundle, sig.payload, trust.sigstoreRoots, now);
    if (!outcome.ok) return failed(sig, outcome.kind, outcome.message);
    return checkPayload(sig, subject, certificateFinding(sig, outcome));
  }
  if (verifiedBy.length === 0) return noKeyVerified(sig, ed25519ph, trust.keys.length);
  let found: SignatureFinding = { scheme: sig.scheme, source: sig.source, verifiedBy };
  if (converted?.ok) {
    const key = trust.keys.find((k) => k.id === verifiedBy[0])!;
    const logs = verifyKeyLogEntries(converted.bundle, sig.payload, key, trust.sigstoreRoots);
    found = withKeyLogs(found, logs);
  }
  return checkPayload(sig, subject, found);
}

/** The payload is parsed only after a trusted key or certificate vouched for it (docs/wire-formats.md "Simple-signing payload"). */
function checkPayload(sig: CosignSignature, subject: Subject, found: SignatureFinding): SignatureFinding {
  const payload = parseSimpleSigningPayload(sig.payload);
  if (!payload.ok) return { ...found, failure: { kind: 'format', message: payload.message } };
  const signedReference = payload.dockerReference === undefined ? {} : { signedReference: payload.dockerReference };
  if (payload.manifestDigest !== subject.digest) {
    const message = `signed for ${shortDigest(payload.manifestDigest)} not ${shortDigest(subject.digest)}`;
    return { ...found, failure: { kind: 'digest', message }, ...signedReference };
  }
  return { ...found, ...signedReference };
}
