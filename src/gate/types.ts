import type { UpstreamConfig } from '../config/types.ts';
import type { Digest, Reference } from '../oci/reference.ts';

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
  | 'unscanned'
  | 'scan_pending'
  | 'scan_stale'
  | 'vulnerable'
  // Pull-side access control: the client's identity may not pull this repository.
  | 'not_authorized';

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

/** Everything the gate may look at for one manifest pull. Later checks read it; the proxy fills it. */
export interface PullContext {
  readonly canonicalName: string;
  readonly repository: string;
  readonly upstream: UpstreamConfig;
  readonly requested: Reference;
  readonly ns: string | undefined;
  readonly manifest: {
    readonly bytes: Buffer;
    readonly digest: Digest;
    readonly mediaType: string;
    /** Child manifest digests when this is an index. */
    readonly children: readonly Digest[];
    /** Config and layer digests when this is an image manifest. */
    readonly blobs: readonly Digest[];
    /** A signature or attestation artifact rather than a runnable image. */
    readonly isSignatureArtifact: boolean;
  };
  /** The allowed index this manifest was listed in, when known. */
  readonly parentIndex: Digest | undefined;
  readonly client: ClientIdentity | undefined;
}

export interface Gate {
  decide(context: PullContext): Promise<Decision>;
  /** The blob gate: may this blob of this repository be served? */
  allowsBlob(canonicalName: string, digest: Digest): Promise<boolean>;
}
