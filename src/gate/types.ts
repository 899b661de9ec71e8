import type { UpstreamConfig } from '../config/types.ts';
import type { Digest, Reference } from '../oci/reference.ts';

/** Why a pull was refused. A closed set: metrics, logs and clients all key on these. */
export type ReasonCode = 'source_not_allowed';

export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
}

export interface Decision {
  readonly outcome: 'allow' | 'deny';
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
  };
  /** The allowed index this manifest was listed in, when known. */
  readonly parentIndex: Digest | undefined;
  readonly client: ClientIdentity | undefined;
}

export interface Gate {
  decide(context: PullContext): Promise<Decision>;
}
