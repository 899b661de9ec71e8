// Keys generated at test time (docs/style.md "Tests mirror src"), one of each kind cosign can sign with.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SignOptions } from '../../kit/index.ts';

export interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const keys = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ed25519: generateKeyPairSync('ed25519'),
  otherEd25519: generateKeyPairSync('ed25519'),
  otherP256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
} satisfies Record<string, Pair>;

/** What cosign versions write, per key (docs/wire-formats.md "Signature bytes and keys"): each must verify. */
export const ACCEPTED: ReadonlyArray<[string, Pair, SignOptions]> = [
  ['ECDSA P-256 SHA-256', keys.p256, { hash: 'sha256' }],
  ['ECDSA P-384 SHA-256 (cosign ≤ 2.5)', keys.p384, { hash: 'sha256' }],
  ['ECDSA P-384 SHA-384 (cosign ≥ 2.6)', keys.p384, { hash: 'sha384' }],
  ['ECDSA P-521 SHA-256 (cosign ≤ 2.5)', keys.p521, { hash: 'sha256' }],
  ['ECDSA P-521 SHA-512 (cosign ≥ 2.6)', keys.p521, { hash: 'sha512' }],
  ['RSA 2048 PKCS#1 v1.5 SHA-256', keys.rsa, { rsaPadding: 'pkcs1' }],
  ['RSA 2048 PSS SHA-256', keys.rsa, { rsaPadding: 'pss' }],
  ['Ed25519 pure (cosign ≤ 2.5)', keys.ed25519, {}],
];

/** Hash/curve pairs outside the table: never accepted. */
export const REJECTED: ReadonlyArray<[string, Pair, SignOptions]> = [
  ['ECDSA P-256 SHA-384', keys.p256, { hash: 'sha384' }],
  ['ECDSA P-384 SHA-512', keys.p384, { hash: 'sha512' }],
  ['ECDSA P-521 SHA-384', keys.p521, { hash: 'sha384' }],
  ['RSA PKCS#1 v1.5 SHA-512', keys.rsa, { hash: 'sha512' }],
];
