import type { KeyObject, X509Certificate } from 'node:crypto';
import type { TrustMaterial as SigstoreTrustMaterial } from '@sigstore/verify';
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

/**
 * A `sigstore-root` trust entry, compiled once per trust version into @sigstore/verify's trust
 * material: its certificate authorities, transparency logs, CT logs and timestamp authorities, each
 * with its validity window (docs/keyless.md "Trust roots").
 */
export interface SigstoreRoot {
  readonly id: string;
  readonly material: SigstoreTrustMaterial;
  /**
   * Bring-your-own PKI: the root lists no transparency log. Only then may a rule turn the log off,
   * and only then is a certificate with no trusted signing time checked at verification time.
   */
  readonly pki: boolean;
}

export interface TrustMaterial {
  readonly keys: readonly TrustedKey[];
  /** Notation `ca` / `signingAuthority` roots. */
  readonly roots: readonly TrustedRoot[];
  readonly sigstoreRoots: readonly SigstoreRoot[];
  /** RFC 3161 timestamp-authority roots (notation countersignatures). */
  readonly tsaRoots: readonly TrustedRoot[];
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
 * - `certificate_untrusted`: a keyless/PKI certificate that chains to no trusted sigstore root at its
 *   signing time, breaks an SCT requirement, or carries disagreeing Fulcio issuer extensions
 * - `tlog_invalid`: a transparency-log entry whose promise, proof, checkpoint or body does not verify
 *   or is not bound to this signature, certificate and artifact
 * - `tlog_missing`: a certificate with no trusted signing time (no verified log promise, no RFC 3161
 *   timestamp) under a root that is not bring-your-own PKI
 * - `timestamp_invalid`: an RFC 3161 timestamp that does not verify against a trusted TSA, or that
 *   belongs to another signature
 */
export type SignatureFailure =
  | 'format'
  | 'crypto'
  | 'digest'
  | 'integrity'
  | 'authenticity'
  | 'expiry'
  | 'unsupported_algorithm'
  | 'certificate_untrusted'
  | 'tlog_invalid'
  | 'tlog_missing'
  | 'timestamp_invalid';

/** One transparency-log entry that verified (inclusion promise, or proof with a signed checkpoint) and is bound to this signature. */
export interface LogEntryEvidence {
  /** The sigstore-root whose log verified it. */
  readonly root: string;
  readonly logIndex: string;
  /** Epoch ms; a trusted time only when `promise` is set (a verified SET). */
  readonly integratedTime: number;
  /** `hashedrekord`, `intoto` or `dsse`, with its version. */
  readonly kind: string;
  readonly promise: boolean;
  readonly proof: boolean;
}

/** Why a key-based signature's log entries did not verify under `root` (absent: under no root at all). */
export interface LogProblem {
  readonly root?: string;
  readonly message: string;
}

/** The identity a certificate carries: its SANs and Fulcio's OIDC claims (docs/keyless.md "Identities"). */
export interface CertificateIdentity {
  readonly emails: readonly string[];
  readonly uris: readonly string[];
  /** DNS SANs: an identity only under a bring-your-own PKI root. */
  readonly dnsNames: readonly string[];
  /** The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1); absent for a PKI certificate. */
  readonly issuer?: string;
  /** GitHub workflow claims (Fulcio legacy extensions .1.2 to .1.6), when present. */
  readonly githubWorkflow?: Readonly<Partial<Record<'trigger' | 'sha' | 'name' | 'repository' | 'ref', string>>>;
}

/** Why a keyless or PKI certificate signature verified, under one sigstore root. */
export interface CertificateEvidence {
  readonly root: string;
  readonly identity: CertificateIdentity;
  /**
   * The time the certificate was checked at: a verified SET's integrated time (`tlog`), a verified
   * RFC 3161 timestamp (`tsa`), or, only under a PKI root with no trusted time, the evaluation time
   * (`verification-time`), which a rule accepts only with `transparencyLog: off`.
   */
  readonly signingTime: { readonly source: 'tlog' | 'tsa' | 'verification-time'; readonly at: number };
  /** The leaf certificate's notAfter, epoch ms. */
  readonly certificateNotAfter: number;
  /** The earliest notAfter on the whole path, and the CA's end in the root: until when a certificate checked at evaluation time holds. */
  readonly pathNotAfter: number;
}

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
  /** notation: a verified RFC 3161 countersignature; the certificate chain was checked at its time. */
  readonly timestamp?: { readonly authority: string; readonly at: number };
  /** Keyless/PKI: one per sigstore root under which the certificate verified; `verifiedBy` then holds those roots' ids. */
  readonly certificates?: readonly CertificateEvidence[];
  /** Transparency-log entries that verified for this signature (keyless or key-based), per root. */
  readonly logEntries?: readonly LogEntryEvidence[];
  /** A key-based signature's log entries that did not verify, per root: why (the signature itself may still count). */
  readonly logProblems?: readonly LogProblem[];
}
