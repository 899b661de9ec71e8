import { evaluateSignatures, identityReference, judgeFinding, type Evaluation, type FindingJudgement } from '../policy/evaluate.ts';
import { selectRule } from '../policy/select.ts';
import type { Policy, Rule } from '../policy/types.ts';
import type { VerdictKey } from '../verdicts/types.ts';
import { verdictId } from '../verdicts/verdict-entry.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import type { SignatureFinding } from '../verify/types.ts';
import type { Decision } from '../decision/decision.ts';
import type { PullContext } from './types.ts';

/**
 * Everything one decision reads, and the keys built from it (docs/integrity.md "Verdict keys").
 * The verdict cache, the single flight and the allowances all key on `key`; evaluation reads the
 * name, digest and identity reference from `key` itself, never from the context, so a field the
 * key does not cover cannot change a decision.
 */
export interface DecisionInput {
  readonly rule: Rule | undefined;
  readonly policy: Policy;
  readonly trust: CompiledTrust;
  readonly key: VerdictKey;
  /** `verdictId(key)`: the verdict's id, the single-flight key, and the allowance source's name. */
  readonly id: string;
  /** `<policy hash>:<trust version>`: the generation allowances are granted under. */
  readonly generation: string;
}

export function decisionInput(policy: Policy, trust: CompiledTrust, context: PullContext): DecisionInput {
  const { canonicalName } = context;
  const rule = selectRule(policy, canonicalName);
  const key: VerdictKey = {
    canonicalName,
    digest: context.manifest.digest,
    mediaType: context.manifest.mediaType,
    policyHash: policy.hash,
    trustVersion: trust.version,
    identity: identityReference(rule, canonicalName, context.requested),
  };
  return { rule, policy, trust, key, id: verdictId(key), generation: generationOf(policy, trust) };
}

export function generationOf(policy: Policy, trust: CompiledTrust): string {
  return `${policy.hash}:${trust.version}`;
}

/**
 * Judges the findings for one pull. It is handed the context like every step of a decision, but
 * reads the name, digest and identity from `input.key` alone (verification reads the media type
 * from it too): test/gate/decision-key.test.ts
 * checks that two pulls with one key are always judged alike.
 */
export function judge(_context: PullContext, input: DecisionInput, findings: readonly SignatureFinding[], now: number): Decision {
  return evaluateSignatures(evaluation(input, findings, now));
}

/** Each finding judged alone by the same rule and trust, for explain: what it counts for and why not more. */
export function judgeEach(input: DecisionInput, findings: readonly SignatureFinding[], now: number): FindingJudgement[] {
  const shared = evaluation(input, findings, now);
  return findings.map((finding) => judgeFinding(finding, shared));
}

function evaluation(input: DecisionInput, findings: readonly SignatureFinding[], now: number): Evaluation {
  const { key } = input;
  return {
    rule: input.rule,
    canonicalName: key.canonicalName,
    identity: key.identity,
    digest: key.digest,
    findings,
    trust: input.trust,
    now,
  };
}
