// cosign's signature format: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
import { constants, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

/**
 * The simple-signing payload cosign signs: Go's json.Marshal of sigstore's
 * `payload.SimpleContainerImage`, so struct field order and compact output.
 */
export function simpleSigningPayload(manifestDigest: string, dockerReference: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': manifestDigest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/**
 * A detached signature over `payload`, standard base64 (the annotation's value), as cosign ≤ 2.5
 * signs: ECDSA with SHA-256 (DER), Ed25519 pure, RSA PKCS#1 v1.5 with SHA-256.
 */
export function signSimpleSigning(privateKey: KeyObject, payload: Buffer): string {
  switch (privateKey.asymmetricKeyType) {
    case 'ec':
      return sign('sha256', payload, privateKey).toString('base64');
    case 'ed25519':
      return sign(null, payload, privateKey).toString('base64');
    case 'rsa':
      return sign('sha256', payload, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
    default:
      throw new Error(`unsupported key type ${privateKey.asymmetricKeyType ?? 'unknown'}: use ECDSA, Ed25519 or RSA`);
  }
}

/**
 * Reads an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1), as `trustgate keygen` writes.
 * cosign's own encrypted key format (`ENCRYPTED SIGSTORE PRIVATE KEY`) is not read.
 */
export function readPrivateKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read the key (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (/ENCRYPTED (SIGSTORE |COSIGN )?PRIVATE KEY/.test(pem)) {
    throw new Error(`${path}: an encrypted key; trustgate sign reads only unencrypted PEM keys (trustgate keygen writes one)`);
  }
  try {
    return createPrivateKey(pem);
  } catch {
    throw new Error(`${path}: not a PEM private key`);
  }
}

export function publicKeyPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}
