// Notary Project (notation) JWS signatures: verification and trust-policy identities.
export { verifyNotationSignature } from './verify.ts';
export { matchesTrustedIdentity, parseTrustedIdentity, parseTrustedIdentities } from './identity.ts';
export type { TrustedIdentity } from './identity.ts';
export { parseSubjectName } from './subject-name.ts';
export { COSE_MEDIA_TYPE, JWS_MEDIA_TYPE } from './envelope.ts';
