import type { BuiltInRuleName, PolicyRuleName } from '../decision/decision.ts';
import type { ScanRequirement } from '../scan/types.ts';
import type { ImagePattern } from '../oci/pattern.ts';

export type Mode = 'enforce' | 'warn' | 'off';

/** An exact value, or an anchored regular expression that must match the whole value. */
export type ValueMatch = { readonly exact: string } | { readonly regExp: RegExp };

/** One keyless signer: an OIDC issuer and a subject (a SAN), and optionally GitHub workflow claims. */
export interface KeylessIdentity {
  /** The signer's stable name (`<root>/<name>`), for `required`, threshold counting and the decision record. */
  readonly signer: string;
  /** Absent: only certificates without a Fulcio issuer (bring-your-own PKI) match. */
  readonly issuer: ValueMatch | undefined;
  readonly subject: ValueMatch;
  readonly githubWorkflow: Readonly<Partial<Record<'trigger' | 'sha' | 'name' | 'repository' | 'ref', string>>>;
}

/** `required`: a verified log entry; `optional`: none needed; `off`: bring-your-own PKI only, checked at evaluation time. */
export type TransparencyLogMode = 'required' | 'optional' | 'off';

/** Certificates that chain to a sigstore root, from the listed identities (docs/keyless.md "Policy"). */
export interface KeylessAuthority {
  readonly root: string;
  readonly identities: readonly KeylessIdentity[];
  readonly transparencyLog: TransparencyLogMode;
}

export interface SignatureRequirement {
  readonly trust: readonly string[] | undefined;
  readonly threshold: number;
  readonly required: readonly string[];
  readonly signedIdentity: 'any' | 'repository' | 'exact';
  readonly trustedIdentities: readonly string[];
  readonly signatureRepository: string | undefined;
  readonly keyless: readonly KeylessAuthority[];
  /** Key-based signatures count only with a verified log entry from this sigstore root's logs. */
  readonly keyTransparencyLogRoot: string | undefined;
}

export interface Rule {
  readonly name: PolicyRuleName;
  readonly images: readonly ImagePattern[];
  readonly mode: Mode;
  readonly signatures: SignatureRequirement;
  readonly multiArch: 'index' | 'each';
  /** undefined: no scan required. */
  readonly scan: ScanRequirement | undefined;
  /** Position in the file, the last tie-break. */
  readonly order: number;
}

export interface Policy {
  readonly rules: readonly Rule[];
  /** sha256 of the canonical compiled policy: part of every verdict key. */
  readonly hash: string;
  readonly source: string;
  /** The YAML it was compiled from (what GET /admin/v1/policy shows). */
  readonly text?: string;
}

/** The rule that applies when no pattern matches: deny. */
export const DEFAULT_RULE_NAME: BuiltInRuleName = 'default';
