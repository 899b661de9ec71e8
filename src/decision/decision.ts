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
  // Keyless and PKI certificates, transparency logs and timestamps (docs/keyless.md "Reason codes").
  | 'certificate_untrusted'
  | 'tlog_missing'
  | 'tlog_invalid'
  | 'timestamp_invalid'
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

/**
 * The checks trustgate makes itself, around the policy. A policy rule may not take one of these
 * names (policy/parse.ts refuses it), so a rule name says which kind of check decided.
 */
export const BUILT_IN_RULES = [
  'pull-access',
  'source-allowlist',
  'blob-gate',
  'manifest-format',
  'referrers-listing',
  'signature-artifact',
  'break-glass',
  'default',
] as const;
export type BuiltInRuleName = (typeof BUILT_IN_RULES)[number];

declare const policyRule: unique symbol;
/** A rule name from the policy, only ever made by the policy parser (`policyRuleName`). */
export type PolicyRuleName = string & { readonly [policyRule]: true };
export type RuleName = BuiltInRuleName | PolicyRuleName;

export function isBuiltInRule(name: string): name is BuiltInRuleName {
  return (BUILT_IN_RULES as readonly string[]).includes(name);
}

/** A rule name read back from a verdict this or another replica stored. */
export function storedRuleName(name: string): RuleName {
  return isBuiltInRule(name) ? name : (name as PolicyRuleName);
}

/** Brands a policy rule's name; the parser calls it after checking the name is not a built-in one. */
export function policyRuleName(name: string): PolicyRuleName {
  if (isBuiltInRule(name)) throw new TypeError(`"${name}" is the name of a built-in check`);
  return name as PolicyRuleName;
}

export type Outcome = 'allow' | 'deny' | 'warn';

export interface Decision {
  /** `warn`: allowed by a rule in warn mode that would have denied; `reasons` say why. */
  readonly outcome: Outcome;
  /** The rule that decided, or the built-in check's name. */
  readonly rule: RuleName;
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

/** An allow; `notAfter` is when it must be judged again (undefined: it does not expire by itself). Reasons only say why it was let through (break glass). */
export function allowDecision(
  rule: RuleName,
  digest: Digest | undefined,
  signers: readonly string[] = [],
  notAfter: number | undefined = undefined,
  reasons: readonly Reason[] = [],
): Decision {
  return { outcome: 'allow', rule, reasons, signers, digest, notAfter };
}

/** A refusal, with the reasons a client and an operator read. */
export function denyDecision(rule: RuleName, reasons: readonly Reason[], digest: Digest | undefined = undefined): Decision {
  return { outcome: 'deny', rule, reasons, signers: [], digest, notAfter: undefined };
}

/** A rule's own verdict: allow, or deny (warn in warn mode) with reasons. Never expiring when refused. */
export function ruleDecision(
  outcome: Outcome,
  rule: RuleName,
  digest: Digest | undefined,
  reasons: readonly Reason[],
  signers: readonly string[],
  notAfter: number | undefined,
): Decision {
  return { outcome, rule, reasons, signers, digest, notAfter: outcome === 'allow' ? notAfter : undefined };
}
