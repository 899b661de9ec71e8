// Public surface of the end-to-end test kit.
export { freePort } from './free-port.ts';
export { httpGet } from './http-get.ts';
export type { HttpGetOptions, HttpGetResult } from './http-get.ts';
export { bcryptHash } from './bcrypt.ts';
export { makeTls, makeSelfSigned, openssl } from './tls.ts';
export type { TlsFiles } from './tls.ts';
export { startTokenIssuer } from './token-issuer.ts';
export { libtrustKeyId, parseScope } from './token-scope.ts';
export type { Access, TokenCall, TokenIssuer, TokenIssuerOptions } from './token-issuer.ts';
export { startRegistry, REGISTRY_BIN } from './registry.ts';
export type { RegistryAuth, RegistryOptions, RunningRegistry } from './registry.ts';
export { buildImage, blobPath, seededBytes, sha256, tarOneFile, MT } from './oci-image.ts';
export type { BuildImageOptions, BuiltChild, BuiltImage, Descriptor, Platform } from './oci-image.ts';
export { copy, inspect, push, runSkopeo, SKOPEO_BIN } from './skopeo.ts';
export type { CopyOpts, InspectOpts, RegistryOpts, SkopeoResult } from './skopeo.ts';
export { putBlob, putManifest, getManifest } from './registry-api.ts';
export type { Pushed } from './registry-api.ts';
export {
  makeSimpleSigningPayload,
  cosignSignImage,
  signPayload,
  pushCosignSignature,
  cosignSignatureTag,
  makeSigstoreBundle,
  makeMessageSignatureBundle,
  dssePae,
  publicKeyHint,
  COSIGN_MT,
  COSIGN_SIGNATURE_ANNOTATION,
} from './cosign-sign.ts';
export type { BundleOptions, PushedSignature, SignatureLayer, SignOptions } from './cosign-sign.ts';
export { makeNotationPki, NOTATION_EXTENSIONS } from './notation-pki.ts';
export type { NotationCert, NotationCertSpec, NotationKeyType, NotationPki, NotationPkiOptions } from './notation-pki.ts';
export {
  signNotation,
  pushNotationSignature,
  notationThumbprints,
  referrersTag,
  rfc3339,
  NOTATION_MT,
  NOTATION_THUMBPRINT_ANNOTATION,
} from './notation-sign.ts';
export type { NotationAlg, NotationTarget, PushedNotation, SignNotationOptions } from './notation-sign.ts';
export { trivyReport, pushVulnAttestation } from './scan-evidence.ts';
export type { Vulnerability } from './scan-evidence.ts';
