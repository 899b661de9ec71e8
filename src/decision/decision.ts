import type { Digest } from '../oci/reference.ts';

/** Why a pull was refused. A closed set: metrics, logs and clients all key on these. */
export type ReasonCode =
  | 'source_not_allowed'
  | 'no_matching_rule'
  | 'unsigned'
  | 'signature_invalid'
  | 'digest_mismatch'
  | 'untrusted_signer'
  | 'key_revoked'
  | 'key_not_valid'
  | 'identity_mismatch'
  | 'signature_expired'
  | 'unsupported_algorithm'
  | 'certificate_unsupported'
  | 'threshold_not_met'
  | 'required_signer_missing'
  | 'blob_not_referenced'
  // The upstream answered with a manifest format no signature can cover (Docker schema 1, unknown types).
  | 'unsupported_manifest'
  | 'unscanned'
  | 'scan_pending'
  | 'scan_stale'
  | 'vulnerable'
  // Pull-side access control: the client's identity may not pull this repository.
  | 'not_authorized'
  // Not a denial: an active break-glass entry let a denied pull through (outcome allow).
  | 'break_glass';

export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
}

export interface Decision {
  /** `warn`: allowed by a rule in warn mode that would have denied; `reasons` say why. */
  readonly outcome: 'allow' | 'deny' | 'warn';
  /** The rule that decided, or the built-in check's name. */
  readonly rule: string;
  readonly reasons: readonly Reason[];
  readonly signers: readonly string[];
  readonly digest: Digest | undefined;
  /** Epoch ms after which an allow must be re-evaluated; undefined when nothing expires. */
  readonly notAfter: number | undefined;
}

/** Who is pulling. Empty until pull authentication exists. */
export interface ClientIdentity {
  readonly subject: string;
}
