// One signature, one public key, cosign's scheme table (docs/wire-formats.md "Signature bytes and keys"; sigstore/sigstore
// `LoadSignerVerifier*`, cosign `pkg/cosign/keys.go`). What each cosign version writes:
//
// | key          | cosign ≤ 2.5.x                 | cosign ≥ 2.6.0 (LoadDefaultSignerVerifier) | we try, in order              |
// |--------------|--------------------------------|--------------------------------------------|-------------------------------|
// | ECDSA P-256  | ECDSA SHA-256, DER             | ECDSA SHA-256, DER                         | SHA-256                       |
// | ECDSA P-384  | ECDSA SHA-256, DER             | ECDSA SHA-384, DER                         | SHA-256, SHA-384              |
// | ECDSA P-521  | ECDSA SHA-256, DER             | ECDSA SHA-512, DER                         | SHA-256, SHA-512              |
// | RSA          | PKCS#1 v1.5 SHA-256            | PKCS#1 v1.5 SHA-256 (PSS if configured)    | PKCS#1 v1.5, PSS (salt auto)  |
// | Ed25519      | PureEd25519 (64 bytes)         | Ed25519ph, SHA-512 prehash, empty context  | pure; else recognise ph       |
//
// Ed25519ph is not a Node option. We never accept it; we only recognise it exactly (a real
// RFC 8032 Ed25519ph verification with @noble/curves) so the caller can deny with
// `unsupported_algorithm` instead of a vague `crypto`. Other key types and curves → 'bad'.
import { constants, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519.js';

export type KeyVerdict = 'ok' | 'bad' | 'ed25519ph';

type Attempt = () => boolean;

const EC_HASHES: Readonly<Record<string, readonly string[]>> = {
  prime256v1: ['sha256'],
  secp384r1: ['sha256', 'sha384'],
  secp521r1: ['sha256', 'sha512'],
};

/** Never throws: malformed signatures, odd keys and library errors all come out as 'bad'. */
export function verifyWithKey(key: KeyObject, data: Buffer, signature: Buffer): KeyVerdict {
  try {
    switch (key.asymmetricKeyType) {
      case 'ec': {
        const hashes = EC_HASHES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? [];
        return anyOk(hashes.map((hash) => () => verify(hash, data, key, signature)));
      }
      case 'rsa':
      case 'rsa-pss':
        return anyOk([
          () => verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature),
          () =>
            verify(
              'sha256',
              data,
              { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
              signature,
            ),
        ]);
      case 'ed25519':
        if (anyOk([() => verify(null, data, key, signature)]) === 'ok') return 'ok';
        return isEd25519ph(key, data, signature) ? 'ed25519ph' : 'bad';
      default:
        return 'bad';
    }
  } catch {
    return 'bad';
  }
}

function anyOk(attempts: readonly Attempt[]): KeyVerdict {
  for (const attempt of attempts) {
    try {
      if (attempt()) return 'ok';
    } catch {
      // OpenSSL rejects some malformed inputs by throwing; that is just a failed attempt.
    }
  }
  return 'bad';
}

/** RFC 8032 §5.1 Ed25519ph (prehash SHA-512, empty context), as Go's ed25519.VerifyWithOptions. */
function isEd25519ph(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    const x = key.export({ format: 'jwk' }).x;
    if (typeof x !== 'string') return false;
    const publicKey = Buffer.from(x, 'base64url');
    return ed25519ph.verify(signature, data, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
