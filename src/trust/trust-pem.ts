import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { TrustKind } from './types.ts';
import { pemBlocks } from '../input/pem-blocks.ts';
import { parseTrustedRoot, pemTrustedRoot } from './sigstore-root.ts';

/*
 * Checks PEM trust material offered at run time (the admin API) and fingerprints it. The stored
 * PEM is re-exported from the parsed key or certificate, so nothing else the caller sent (comments,
 * other blocks) is ever kept.
 */
export type PemCheck =
  | { readonly ok: true; readonly pem: string; readonly fingerprint: string; readonly algorithm: string }
  | { readonly ok: false; readonly privateKey: boolean; readonly problem: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const CURVES: Readonly<Record<string, string>> = { prime256v1: 'ECDSA P-256', secp384r1: 'ECDSA P-384', secp521r1: 'ECDSA P-521' };

/** Any private key at all, in any PEM flavour (PKCS#8, SEC1, PKCS#1, encrypted, OpenSSH). */
export const holdsPrivateKey = (text: string): boolean => /PRIVATE KEY/i.test(text);

/**
 * SHA-256 of the SPKI DER (keys), of the certificate DER (roots), or of the stored material (a
 * sigstore-root: its trusted_root.json text, or its PEM), as `sha256:<hex>`; undefined when unparsable.
 */
export function fingerprintOf(kind: TrustKind, pem: string, trustedRoot?: string): string | undefined {
  if (kind === 'sigstore-root')
    return `sha256:${createHash('sha256')
      .update(trustedRoot ?? pem)
      .digest('hex')}`;
  try {
    const der = kind === 'key' ? createPublicKey(pem).export({ type: 'spki', format: 'der' }) : new X509Certificate(pem).raw;
    return `sha256:${createHash('sha256').update(der).digest('hex')}`;
  } catch {
    return undefined;
  }
}

/** An accepted algorithm's name, or why the key is refused: ECDSA P-256/384/521, RSA ≥ 2048 bits, Ed25519. */
export function keyAlgorithm(key: KeyObject): { name: string } | { problem: string } {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const name = CURVES[details.namedCurve ?? ''];
    return name === undefined ? { problem: `EC curve ${details.namedCurve ?? 'unknown'} is not accepted (P-256, P-384, P-521)` } : { name };
  }
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    return bits >= 2048 ? { name: `RSA ${bits}` } : { problem: `RSA keys need at least 2048 bits (this one has ${bits})` };
  }
  if (type === 'ed25519') return { name: 'Ed25519' };
  return { problem: `${type ?? 'unknown'} keys are not accepted (ECDSA P-256/384/521, RSA ≥ 2048, Ed25519)` };
}

export function checkTrustPem(kind: TrustKind, text: string): PemCheck {
  if (holdsPrivateKey(text))
    return {
      ok: false,
      privateKey: true,
      problem: 'this PEM holds a private key; the trust store takes public keys and certificates only, and it was not stored',
    };
  const labels = [...text.matchAll(BLOCK)].map((m) => m[1]);
  const wanted = kind === 'key' ? ['PUBLIC KEY', 'RSA PUBLIC KEY'] : ['CERTIFICATE'];
  if (labels.length !== 1 || !wanted.includes(labels[0]!)) {
    return {
      ok: false,
      privateKey: false,
      problem: `kind "${kind}" needs exactly one PEM block: ${kind === 'key' ? '-----BEGIN PUBLIC KEY-----' : '-----BEGIN CERTIFICATE-----'}`,
    };
  }
  let key: KeyObject;
  let pem: string;
  try {
    if (kind === 'key') {
      key = createPublicKey(text);
      pem = key.export({ type: 'spki', format: 'pem' }).toString();
    } else {
      const certificate = new X509Certificate(text);
      key = certificate.publicKey;
      pem = certificate.toString();
    }
  } catch (error) {
    return {
      ok: false,
      privateKey: false,
      problem: `not a valid ${kind === 'key' ? 'public key' : 'certificate'}: ${(error as Error).message}`,
    };
  }
  const algorithm = keyAlgorithm(key);
  if ('problem' in algorithm) return { ok: false, privateKey: false, problem: algorithm.problem };
  return { ok: true, pem, fingerprint: fingerprintOf(kind, pem) ?? '', algorithm: algorithm.name };
}

export type SigstoreRootCheck =
  | { readonly ok: true; readonly material: { readonly pem: string; readonly trustedRoot?: string } }
  | { readonly ok: false; readonly problem: string };

/**
 * A sigstore-root offered at run time: a trusted_root.json (stored re-serialized) or PEM certificates
 * of a bring-your-own PKI (stored re-exported), compiled as the trust store will compile it.
 */
export function checkSigstoreRoot(pem: string, trustedRoot: string | undefined): SigstoreRootCheck {
  if (holdsPrivateKey(pem) || (trustedRoot !== undefined && holdsPrivateKey(trustedRoot))) {
    return { ok: false, problem: 'this material holds a private key; the trust store takes public material only, and it was not stored' };
  }
  try {
    if (trustedRoot !== undefined) {
      parseTrustedRoot(trustedRoot);
      return { ok: true, material: { pem: '', trustedRoot: JSON.stringify(JSON.parse(trustedRoot)) } };
    }
    const blocks = pemBlocks(pem, ['CERTIFICATE']);
    if (blocks.length === 0 || blocks.length !== pem.split('-----BEGIN ').length - 1) {
      return { ok: false, problem: 'a sigstore-root given as PEM holds certificates only (-----BEGIN CERTIFICATE-----)' };
    }
    const certificates = blocks.map((block) => new X509Certificate(block.text).toString());
    pemTrustedRoot(certificates.join(''));
    return { ok: true, material: { pem: certificates.join('') } };
  } catch (error) {
    return { ok: false, problem: `not a usable sigstore root: ${(error as Error).message}` };
  }
}
