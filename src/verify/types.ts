import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Digest } from '../oci/reference.ts';

/**
 * Every signature format, normalized at the edge into one union (docs/style.md "Normalize at the edge"). Discovery (discovery/)
 * fills these from bytes it fetched and digest-checked; verification never does I/O.
 */
export type SignedArtifact = CosignSignature | SigstoreBundle | NotationSignature;

/** One layer of a cosign `.sig` manifest (cosign SIGNATURE_SPEC.md; docs/wire-formats.md "The .sig tag"). */
export interface CosignSignature {
  readonly scheme: 'cosign';
  /** Where it was found, for decisions and logs, e.g. `sha256-….sig#0`. */
  readonly source: string;
  /** The layer media type; must be the simple-signing type. */
  readonly mediaType: string;
  /** The exact payload blob bytes (already size- and digest-checked against the descriptor). */
  readonly payload: Buffer;
  /** The layer annotations verbatim (signature, certificate, chain, bundle…). */
  readonly annotations: Readonly<Record<string, string>>;
}

/** A sigstore bundle stored as an OCI 1.1 referrer (docs/wire-formats.md "Sigstore bundles"). */
export interface SigstoreBundle {
  readonly scheme: 'sigstore-bundle';
  readonly source: string;
  /** The exact bundle layer bytes (JSON). */
  readonly bundle: Buffer;
}

/** A Notary Project signature envelope (notaryproject signature-specification.md; docs/wire-formats.md "Notation"). */
export interface NotationSignature {
  readonly scheme: 'notation';
  readonly source: string;
  /** `application/jose+json` (JWS) — COSE is reported as unsupported. */
  readonly mediaType: string;
  /** The exact envelope bytes. */
  readonly envelope: Buffer;
}

export type Scheme = SignedArtifact['scheme'];

/** What was signed: the manifest trustgate is about to serve. */
export interface Subject {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  /** The exact manifest bytes (they hash to `digest`); a bundle's messageSignature signs these. */
  readonly bytes: Buffer;
}

/** A public key from the trust store. Status, scopes and validity are policy's business, not the verifier's. */
export interface TrustedKey {
  readonly id: string;
  readonly publicKey: KeyObject;
}

/** An X.509 root from the trust store (notation `ca` trust stores). */
export interface TrustedRoot {
  readonly id: string;
  readonly certificate: X509Certificate;
}

export interface TrustMaterial {
  readonly keys: readonly TrustedKey[];
  readonly roots: readonly TrustedRoot[];
}

/**
 * Why one signature did not count. A closed set; policy turns these into decision reasons.
 * - `format`: not a signature of a supported shape, or a required field/annotation is missing
 * - `crypto`: the signature bytes verify with no trusted key
 * - `digest`: it was made for another manifest (payload digest or target descriptor differs)
 * - `integrity`: a notation envelope that cannot be parsed or whose signature is bad
 * - `authenticity`: no chain to a trusted root, or a certificate breaks the notation rules
 * - `expiry`: the notation signature or a certificate in its chain has expired
 * - `unsupported_algorithm`: a scheme Node cannot verify (cosign ≥ 2.6 Ed25519ph, COSE…)
 * - `certificate_only`: a keyless/PKI cosign signature, which this version does not accept
 */
export type SignatureFailure =
  'format' | 'crypto' | 'digest' | 'integrity' | 'authenticity' | 'expiry' | 'unsupported_algorithm' | 'certificate_only';

export interface SignatureFinding {
  readonly scheme: Scheme;
  readonly source: string;
  /**
   * Trust-store ids whose key verified the signature bytes (cosign, bundles) or whose root
   * anchors the verified chain (notation). Empty when nothing verified.
   */
  readonly verifiedBy: readonly string[];
  /** Set when the signature does not count; `verifiedBy` may still be set (e.g. digest mismatch). */
  readonly failure?: { readonly kind: SignatureFailure; readonly message: string };
  /** cosign: `critical.identity.docker-reference` as signed, for an identity rule. */
  readonly signedReference?: string;
  /** notation: the leaf certificate subject, as `{ CN: …, O: …, … }`, for trusted identities. */
  readonly signerSubject?: Readonly<Record<string, string>>;
  /** Epoch ms after which this signature stops counting (certificate or envelope expiry). */
  readonly notAfter?: number;
}
