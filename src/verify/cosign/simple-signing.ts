// A cosign tag-based signature (one layer of `sha256-<hex>.sig`) checked against trusted keys:
// cosign `verifyOCISignature` + `SimpleClaimVerifier` (docs/wire-formats.md "The .sig tag" to "Signature bytes and keys"). Rekor bundles in
// `dev.sigstore.cosign/bundle` are not checked here (key-only policy; the tlog check is a later issue).
import type { CosignSignature, SignatureFinding, Subject, TrustMaterial } from '../types.ts';
import { decodeStdBase64 } from './base64.ts';
import { failed, noKeyVerified, shortDigest, tryKeys } from './finding.ts';
import { parseSimpleSigningPayload } from './simple-signing-payload.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';

export function verifyCosignSignature(sig: CosignSignature, subject: Subject, trust: TrustMaterial): SignatureFinding {
  if (sig.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) {
    return failed(sig, 'format', `layer media type ${JSON.stringify(sig.mediaType.slice(0, 100))} is not cosign simple signing`);
  }
  const encoded = sig.annotations[SIGNATURE_ANNOTATION];
  if (typeof encoded !== 'string' || encoded === '') return failed(sig, 'format', `no ${SIGNATURE_ANNOTATION} annotation`);
  const signature = decodeStdBase64(encoded);
  if (signature === undefined || signature.length === 0) return failed(sig, 'format', 'signature annotation is not valid base64');

  const { verifiedBy, ed25519ph } = tryKeys(trust.keys, sig.payload, [signature]);
  if (verifiedBy.length === 0) {
    if (typeof sig.annotations[CERTIFICATE_ANNOTATION] === 'string') {
      return failed(sig, 'certificate_only', 'keyless/PKI signature (certificate annotation); only key-based signatures are accepted');
    }
    return noKeyVerified(sig, ed25519ph, trust.keys.length);
  }

  // The payload is parsed only after a trusted key vouched for it (docs/wire-formats.md "Simple-signing payload").
  const payload = parseSimpleSigningPayload(sig.payload);
  if (!payload.ok) return failed(sig, 'format', payload.message, verifiedBy);
  const signedReference = payload.dockerReference === undefined ? {} : { signedReference: payload.dockerReference };
  if (payload.manifestDigest !== subject.digest) {
    return {
      ...failed(sig, 'digest', `signed for ${shortDigest(payload.manifestDigest)} not ${shortDigest(subject.digest)}`, verifiedBy),
      ...signedReference,
    };
  }
  return { scheme: sig.scheme, source: sig.source, verifiedBy, ...signedReference };
}
