// Keys made at fuzz time and the checks every signature finding must pass, shared by the cosign,
// bundle, attestation and gate targets.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import type { SignOptions } from '../../kit/cosign-sign.ts';
import { makeNotationPki, type NotationPki, type NotationPkiOptions } from '../../kit/notation-pki.ts';
import type { Scheme, SignatureFinding, Subject, TrustedKey, TrustMaterial } from '../../../src/verify/types.ts';
import { MediaType } from '../../../src/oci/media-types.ts';
import { sha256 } from '../arbitraries.ts';

export interface Signer {
  readonly id: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** What cosign writes with this key (docs/wire-formats.md "Signature bytes and keys"). */
  readonly options: SignOptions;
}

export interface CosignKeys {
  /** In the trust store. */
  readonly trusted: readonly Signer[];
  /** Never in the trust store: an attacker's keys of the same kinds. */
  readonly attackers: readonly Signer[];
  readonly material: TrustMaterial;
}

const pair = (type: 'p256' | 'p384' | 'rsa' | 'ed25519'): { privateKey: KeyObject; publicKey: KeyObject } => {
  switch (type) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
};

export function makeCosignKeys(): CosignKeys {
  // Counterexamples print the key id, not the KeyObjects.
  const signer = (id: string, type: Parameters<typeof pair>[0], options: SignOptions): Signer =>
    Object.defineProperty({ id, ...pair(type), options }, fc.toStringMethod, { value: () => `<signer ${id}>` });
  const trusted = [
    signer('p256', 'p256', { hash: 'sha256' }),
    signer('p384', 'p384', { hash: 'sha384' }),
    signer('rsa', 'rsa', { rsaPadding: 'pkcs1' }),
    signer('ed25519', 'ed25519', {}),
  ];
  const attackers = [signer('evil-p256', 'p256', { hash: 'sha256' }), signer('evil-ed25519', 'ed25519', {})];
  return {
    trusted,
    attackers,
    material: { keys: trusted.map((s): TrustedKey => ({ id: s.id, publicKey: s.publicKey })), roots: [], sigstoreRoots: [], tsaRoots: [] },
  };
}

let sharedKeys: CosignKeys | undefined;
/** One set of cosign keys per process, shared by the targets (RSA key generation is not free). */
export function sharedCosignKeys(): CosignKeys {
  sharedKeys ??= makeCosignKeys();
  return sharedKeys;
}

const PKI_OPTIONS = {
  /** ECDSA P-256 root → intermediate → leaf. */
  'ec-chain': { intermediate: true },
  /** RSA 2048 root → leaf (PS256). */
  rsa: { root: { key: 'rsa-2048' }, leaf: { key: 'rsa-2048' } },
  /** The same subjects as ec-chain with other keys: an attacker's copy, never trusted. */
  attacker: { intermediate: true },
} satisfies Record<string, NotationPkiOptions>;
const pkis = new Map<string, Promise<NotationPki>>();

/** Notation test PKIs (openssl), made once per process and removed when it exits. */
export function sharedPki(name: keyof typeof PKI_OPTIONS): Promise<NotationPki> {
  let pki = pkis.get(name);
  if (pki === undefined) {
    pki = makeNotationPki(PKI_OPTIONS[name]);
    pkis.set(name, pki);
    void pki.then((p) => process.once('exit', () => rmSync(p.dir, { recursive: true, force: true })));
  }
  return pki;
}

/** The manifest being served: random bytes, so every case has its own digest. */
export const subjectArb: fc.Arbitrary<Subject> = fc.uint8Array({ minLength: 1, maxLength: 80 }).map((b) => subjectOf(Buffer.from(b)));

export function subjectOf(bytes: Buffer, mediaType: string = MediaType.ociManifest): Subject {
  return { digest: sha256(bytes), size: bytes.length, mediaType, bytes };
}

/** src/verify/types.ts `SignatureFailure`: keyless verification replaced `certificate_only` with the four certificate and log kinds. */
const FAILURES = [
  'format',
  'crypto',
  'digest',
  'integrity',
  'authenticity',
  'expiry',
  'unsupported_algorithm',
  'certificate_untrusted',
  'tlog_invalid',
  'tlog_missing',
  'timestamp_invalid',
];

/** A finding from the closed set: its scheme, trust-store ids only, a known failure kind; no failure means some id verified. */
export function assertFinding(finding: SignatureFinding, scheme: Scheme, ids: readonly string[]): void {
  assert.equal(finding.scheme, scheme);
  assert.equal(typeof finding.source, 'string');
  assert.ok(
    Array.isArray(finding.verifiedBy) && finding.verifiedBy.every((id) => ids.includes(id)),
    `verifiedBy ${JSON.stringify(finding.verifiedBy)}`,
  );
  if (finding.failure === undefined) assert.ok(finding.verifiedBy.length > 0, 'a finding without failure must name who verified it');
  else {
    assert.ok(FAILURES.includes(finding.failure.kind), finding.failure.kind);
    assert.equal(typeof finding.failure.message, 'string');
  }
}

/** The signature counts: what policy would turn into an allow. */
export const counts = (finding: SignatureFinding): boolean => finding.failure === undefined && finding.verifiedBy.length > 0;

export function assertDenied(finding: SignatureFinding, what: string): void {
  assert.ok(!counts(finding), `${what} was accepted: ${JSON.stringify(finding)}`);
}
