import type { BuiltInRuleName, PolicyRuleName } from '../decision/decision.ts';
import type { ScanRequirement } from '../scan/types.ts';
import type { ImagePattern } from '../oci/pattern.ts';

export type Mode = 'enforce' | 'warn' | 'off';

export interface SignatureRequirement {
  readonly trust: readonly string[] | undefined;
  readonly threshold: number;
  readonly required: readonly string[];
  readonly signedIdentity: 'any' | 'repository' | 'exact';
  readonly trustedIdentities: readonly string[];
  readonly signatureRepository: string | undefined;
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
