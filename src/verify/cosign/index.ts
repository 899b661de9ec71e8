// Pure cosign/sigstore verifiers: bytes in, a SignatureFinding out; no I/O (docs/style.md "Pure core").
export { verifyCosignSignature, SIMPLE_SIGNING_MEDIA_TYPE, SIGNATURE_ANNOTATION, CERTIFICATE_ANNOTATION } from './simple-signing.ts';
export { COSIGN_SIGNATURE_TYPE } from './simple-signing-payload.ts';
export { verifySigstoreBundle, BUNDLE_MEDIA_TYPES } from './bundle.ts';
export { COSIGN_SIGN_PREDICATE, STATEMENT_V1 } from './bundle-dsse.ts';
export { matchesSignedReference } from './identity.ts';
export type { ExpectedIdentity } from './identity.ts';
export { verifyWithKey } from './key-verify.ts';
export type { KeyVerdict } from './key-verify.ts';
export { pae, IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';
export { decodeStdBase64, decodeAnyBase64 } from './base64.ts';
export { verifyVulnAttestation, VULN_PREDICATE_TYPE } from './vuln-attestation.ts';
