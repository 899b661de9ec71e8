// Building SignatureFindings and their short, human messages.
import { printable } from '../../oci/reference.ts';
import type { Scheme, SignatureFailure, SignatureFinding, TrustedKey } from '../types.ts';
import { verifyWithKey } from './key-verify.ts';

export interface Origin {
  readonly scheme: Scheme;
  readonly source: string;
}

export function failed(origin: Origin, kind: SignatureFailure, message: string, verifiedBy: readonly string[] = []): SignatureFinding {
  return { scheme: origin.scheme, source: origin.source, verifiedBy, failure: { kind, message } };
}

/** `sha256:634a8f35b5f1…` — enough to tell digests apart in a message, bounded for hostile input. */
export function shortDigest(value: string): string {
  const [alg = '', hex = ''] = value.split(':', 2);
  return hex.length > 12 ? `${printable(alg, 16)}:${printable(hex, 12)}` : printable(value, 40); // printable adds the …
}

export interface KeyResult {
  /** Ids of the keys that verified, in trust-store order. */
  readonly verifiedBy: readonly string[];
  /** Some Ed25519 key matched an Ed25519ph signature (cosign ≥ 2.6), which we do not accept. */
  readonly ed25519ph: boolean;
}

/** Tries every (signature, key) pair; a key counts once even if several signatures verify with it. */
export function tryKeys(keys: readonly TrustedKey[], data: Buffer, signatures: readonly Buffer[]): KeyResult {
  const verifiedBy: string[] = [];
  let ph = false;
  for (const key of keys) {
    for (const signature of signatures) {
      const verdict = verifyWithKey(key.publicKey, data, signature);
      if (verdict === 'ok') {
        verifiedBy.push(key.id);
        break;
      }
      if (verdict === 'ed25519ph') ph = true;
    }
  }
  return { verifiedBy, ed25519ph: ph };
}

/** No trusted key verified: say so, or name the Ed25519ph case explicitly (never a vague failure). */
export function noKeyVerified(origin: Origin, ed25519ph: boolean, keyCount: number): SignatureFinding {
  if (ed25519ph)
    return failed(origin, 'unsupported_algorithm', 'Ed25519ph signature (cosign ≥ 2.6 default for Ed25519 keys) is not supported');
  const keys = keyCount === 0 ? 'no trusted keys are configured' : keyCount === 1 ? 'the trusted key' : `any of ${keyCount} trusted keys`;
  return failed(origin, 'crypto', keyCount === 0 ? `signature not checked: ${keys}` : `signature does not verify with ${keys}`);
}

/** Plain-object check for parsed JSON (arrays and null are not objects here). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}
