// The signing certificate's key fixes the algorithm (signature-specification.md "Algorithm
// Selection"; signature-envelope-jws.md "Supported alg header values").
import type { KeyObject } from 'node:crypto';
import type { NotaryAlgorithm } from './protected-header.ts';

const RSA: Readonly<Record<number, NotaryAlgorithm>> = { 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' };
const EC: Readonly<Record<string, NotaryAlgorithm>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export interface KeyAlgorithm {
  /** Undefined when the key has no Notary Project algorithm (e.g. RSA 1024, P-224, Ed25519, RSA-PSS SPKI). */
  readonly alg?: NotaryAlgorithm;
  /** For messages: `RSA 3072`, `EC P-256`, `ed25519`. */
  readonly description: string;
}

export function keyAlgorithm(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    return withAlg(RSA[bits], `RSA ${bits}`);
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'unknown curve';
    return withAlg(EC[curve], `EC ${CURVE_NAMES[curve] ?? curve}`);
  }
  return { description: key.asymmetricKeyType ?? 'unknown key type' };
}

function withAlg(alg: NotaryAlgorithm | undefined, description: string): KeyAlgorithm {
  return alg ? { alg, description } : { description };
}

/** Key size in bits for the certificate rules' minimums (signature-specification.md "Key Length"). */
export function keyBits(key: KeyObject): { readonly kind: 'rsa' | 'ec' | 'other'; readonly bits: number } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return { kind: 'rsa', bits: details.modulusLength ?? 0 };
  if (key.asymmetricKeyType === 'ec') return { kind: 'ec', bits: CURVE_BITS[details.namedCurve ?? ''] ?? 0 };
  return { kind: 'other', bits: 0 };
}

const CURVE_BITS: Readonly<Record<string, number>> = {
  prime192v1: 192,
  secp224r1: 224,
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};
