import { ruleDecision, type Decision, type Reason, type ReasonCode } from '../decision/decision.ts';
import type { Digest, Reference } from '../oci/reference.ts';
import type { CompiledTrust } from '../trust/compile.ts';
import { matchesSignedReference } from '../verify/cosign/identity.ts';
import { matchesTrustedIdentity } from '../verify/notation/identity.ts';
import type { SignatureFailure, SignatureFinding } from '../verify/types.ts';
import { DEFAULT_RULE_NAME, type Rule } from './types.ts';
import { judgeKeyless, type RootFacts } from './keyless.ts';

export interface Evaluation {
  readonly rule: Rule | undefined;
  readonly canonicalName: string;
  /** `identityReference(rule, …)`: the one part of the requested reference a check reads, and so part of the verdict key. */
  readonly identity: string | undefined;
  readonly digest: Digest;
  readonly findings: readonly SignatureFinding[];
  readonly trust: CompiledTrust;
  readonly now: number;
}

const FAILURE_REASON: Record<SignatureFailure, ReasonCode> = {
  format: 'signature_invalid',
  crypto: 'signature_invalid',
  integrity: 'signature_invalid',
  digest: 'digest_mismatch',
  authenticity: 'untrusted_signer',
  expiry: 'signature_expired',
  unsupported_algorithm: 'unsupported_algorithm',
  certificate_untrusted: 'certificate_untrusted',
  tlog_invalid: 'tlog_invalid',
  tlog_missing: 'tlog_missing',
  timestamp_invalid: 'timestamp_invalid',
};

/**
 * The part of the requested reference that `rule`'s checks read: with `signedIdentity: exact`, the
 * whole reference (`name:tag` or `name@digest`), which a cosign signature's docker-reference must
 * equal (containers/image prmExactReference). Undefined when no check reads it. The verdict key
 * carries exactly this value, and evaluation reads only this value, so they cannot drift.
 */
export function identityReference(rule: Rule | undefined, canonicalName: string, requested: Reference): string | undefined {
  if (rule === undefined || rule.mode === 'off' || rule.signatures.signedIdentity !== 'exact') return undefined;
  return `${canonicalName}${requested.kind === 'tag' ? `:${requested.tag}` : `@${requested.digest}`}`;
}

/** Pure: the signature findings for one manifest, judged by its rule against the trust store. */
export function evaluateSignatures(input: Evaluation): Decision {
  const { rule, digest } = input;
  if (rule === undefined) {
    return ruleDecision(
      'deny',
      DEFAULT_RULE_NAME,
      digest,
      [{ code: 'no_matching_rule', message: 'no policy rule matches this image, and the default rule denies' }],
      [],
      undefined,
    );
  }
  if (rule.mode === 'off') return ruleDecision('allow', rule.name, digest, [], [], undefined);
  const judged = input.findings.map((finding) => judgeFinding(finding, input));
  const problems = judged.flatMap((j) => j.problems);
  const signers = assignSigners(
    judged.map((j) => j.signers),
    rule.signatures.required,
  );
  const reasons = shortfall(rule, signers, problems, input.findings.length);
  const ids = [...signers.keys()].sort();
  if (reasons.length === 0) {
    const notAfter = [...signers.values()].reduce<number | undefined>((a, b) => earliest(a, b), undefined);
    return ruleDecision('allow', rule.name, digest, [], ids, notAfter);
  }
  return ruleDecision(rule.mode === 'warn' ? 'warn' : 'deny', rule.name, digest, reasons, ids, undefined);
}

/** What one signature counts for under the rule: the signers it vouches for (each until when), and why it counts for no more. */
export interface FindingJudgement {
  readonly signers: readonly { readonly signer: string; readonly expires: number | undefined }[];
  /** Each message starts with the finding's source. */
  readonly problems: readonly Reason[];
}

/** One finding judged alone: the unit `evaluateSignatures` sums, and what explain shows per signature. */
export function judgeFinding(finding: SignatureFinding, input: Evaluation): FindingJudgement {
  const rule = input.rule;
  if (rule === undefined || rule.mode === 'off') return { signers: [], problems: [] };
  const at = (reason: Reason): Reason => ({ code: reason.code, message: `${finding.source}: ${reason.message}` });
  if (finding.failure !== undefined)
    return { signers: [], problems: [at({ code: FAILURE_REASON[finding.failure.kind], message: finding.failure.message })] };
  if (finding.certificates !== undefined) {
    const wrongReference = signedReferenceProblem(finding, input);
    if (wrongReference !== undefined) return { signers: [], problems: [at(wrongReference)] };
    const judged = judgeKeyless(finding, rule, rootFacts(input));
    // A keyless signer counts until its root's entry ends (or, under a PKI root checked at evaluation time, the certificate).
    const signers = judged.signers.map((signer) => ({
      signer,
      expires: earliest(finding.notAfter, input.trust.byId.get(signer.slice(0, signer.indexOf('/')))?.entry.notAfter),
    }));
    return { signers, problems: judged.problems.map(at) };
  }
  const signers: { signer: string; expires: number | undefined }[] = [];
  const problems: Reason[] = [];
  for (const id of finding.verifiedBy) {
    const refusal = refuseSigner(id, finding, input);
    if (refusal !== undefined) problems.push(at(refusal));
    // A signer counts until its key or this signature stops holding; its best signature decides.
    else signers.push({ signer: id, expires: earliest(finding.notAfter, input.trust.byId.get(id)?.entry.notAfter) });
  }
  return { signers, problems };
}

/** Why trust-store entry `id` may not vouch for this image now, whatever its kind; undefined when it may. */
function entryRefusal(id: string, input: Evaluation): Reason | undefined {
  const compiled = input.trust.byId.get(id);
  if (compiled === undefined) return { code: 'untrusted_signer', message: `"${id}" is not in the trust store` };
  const { entry } = compiled;
  const revoked = input.trust.revoked.get(id);
  if (revoked !== undefined)
    return { code: 'key_revoked', message: `signed by "${id}", revoked at ${new Date(revoked.revokedAt).toISOString()}` };
  if (!entry.purposes.includes('sign')) return { code: 'untrusted_signer', message: `"${id}" is not trusted to sign images` };
  if (!compiled.scopes.some((scope) => scope.test(input.canonicalName))) {
    return { code: 'untrusted_signer', message: `"${id}" is not trusted for this repository` };
  }
  if ((entry.notBefore !== undefined && input.now < entry.notBefore) || (entry.notAfter !== undefined && input.now >= entry.notAfter)) {
    return { code: 'key_not_valid', message: `"${id}" is outside its validity window` };
  }
  return undefined;
}

function rootFacts(input: Evaluation): RootFacts {
  return {
    refusal: (id) => entryRefusal(id, input),
    isPki: (id) => input.trust.material.sigstoreRoots.find((root) => root.id === id)?.pki === true,
  };
}

function refuseSigner(id: string, finding: SignatureFinding, input: Evaluation): Reason | undefined {
  const rule = input.rule!;
  const refusal = entryRefusal(id, input);
  if (refusal !== undefined) return refusal;
  if (rule.signatures.trust !== undefined && !rule.signatures.trust.includes(id)) {
    return { code: 'untrusted_signer', message: `"${id}" is not one of the signers rule "${rule.name}" accepts` };
  }
  const logRoot = rule.signatures.keyTransparencyLogRoot;
  if (logRoot !== undefined && finding.scheme !== 'notation') {
    const rootRefusal = entryRefusal(logRoot, input);
    if (rootRefusal !== undefined) return { code: 'tlog_invalid', message: `transparency-log root: ${rootRefusal.message}` };
    if (!(finding.logEntries ?? []).some((entry) => entry.root === logRoot)) {
      const problem = (finding.logProblems ?? []).find((p) => p.root === logRoot || p.root === undefined);
      return problem !== undefined
        ? { code: 'tlog_invalid', message: `signed by "${id}", but its log entry does not verify: ${problem.message}` }
        : { code: 'tlog_missing', message: `signed by "${id}", with no verified entry in the transparency log of "${logRoot}"` };
    }
  }
  if (finding.timestamp !== undefined) {
    // The countersignature moved the chain check to its time: its TSA must still be trusted.
    const tsaRefusal = entryRefusal(finding.timestamp.authority, input);
    if (tsaRefusal !== undefined) return { code: 'timestamp_invalid', message: `timestamp authority: ${tsaRefusal.message}` };
  }
  if (finding.scheme === 'notation') {
    const subject = finding.signerSubject ?? {};
    if (!rule.signatures.trustedIdentities.some((identity) => matchesTrustedIdentity(subject, identity))) {
      return { code: 'identity_mismatch', message: `signer ${formatSubject(subject)} is not a trusted identity of rule "${rule.name}"` };
    }
  }
  return signedReferenceProblem(finding, input);
}

/** cosign's `docker-reference` against `signedIdentity`, for key and certificate signatures alike (containers/image prmExactReference). */
function signedReferenceProblem(finding: SignatureFinding, input: Evaluation): Reason | undefined {
  const mode = input.rule!.signatures.signedIdentity;
  if (finding.scheme !== 'cosign' || mode === 'any') return undefined;
  const reference = mode === 'repository' ? input.canonicalName : input.identity;
  if (reference === undefined || !matchesSignedReference(finding.signedReference, { mode, reference })) {
    return { code: 'identity_mismatch', message: `signed for "${finding.signedReference ?? 'no reference'}", not ${reference}` };
  }
  return undefined;
}

function shortfall(rule: Rule, signers: Map<string, number | undefined>, problems: readonly Reason[], checked: number): Reason[] {
  const { threshold, required } = rule.signatures;
  const missing = required.filter((id) => !signers.has(id));
  if (signers.size >= threshold && missing.length === 0) return [];
  if (checked === 0) return [{ code: 'unsigned', message: 'no signature found' }];
  const reasons: Reason[] = [];
  if (signers.size === 0) {
    const detail = unique(problems.map((p) => p.message))
      .slice(0, 4)
      .join('; ');
    reasons.push({
      code: problems[0]?.code ?? 'signature_invalid',
      message: `no valid signature from a trusted key (${checked} checked: ${detail})`,
    });
  } else if (signers.size < threshold) {
    reasons.push({
      code: 'threshold_not_met',
      message: `${signers.size} of ${threshold} required signers (${[...signers.keys()].join(', ')})`,
    });
  }
  if (missing.length > 0)
    reasons.push({
      code: 'required_signer_missing',
      message: `no valid signature from required signer ${missing.map((m) => `"${m}"`).join(', ')}`,
    });
  for (const code of unique(problems.map((p) => p.code)))
    if (!reasons.some((r) => r.code === code)) reasons.push({ code, message: problems.find((p) => p.code === code)!.message });
  return reasons;
}

/**
 * One signature counts for one signer, however many names it could carry (one key under two ids,
 * one certificate matching two identities or two roots): a bipartite matching of signatures to
 * signer names, required signers first, so threshold counts signatures, not names. A matched
 * signer lasts as long as the best signature that could stand for it and stands for no other.
 */
function assignSigners(candidates: readonly FindingJudgement['signers'][], required: readonly string[]): Map<string, number | undefined> {
  const owner = new Map<string, number>();
  const claim = (i: number, allowed: (signer: string) => boolean, seen: Set<string>): boolean => {
    for (const { signer } of candidates[i]!) {
      if (!allowed(signer) || seen.has(signer)) continue;
      seen.add(signer);
      const holder = owner.get(signer);
      if (holder === undefined || claim(holder, allowed, seen)) {
        owner.set(signer, i);
        return true;
      }
    }
    return false;
  };
  const assigned = new Set<number>();
  for (const only of [(s: string) => required.includes(s), () => true]) {
    candidates.forEach((_, i) => {
      if (!assigned.has(i) && claim(i, only, new Set())) assigned.add(i);
    });
  }
  const signers = new Map<string, number | undefined>();
  for (const [signer, i] of owner) {
    const standIns = candidates.flatMap((list, k) => (k === i || !assigned.has(k) ? list.filter((c) => c.signer === signer) : []));
    signers.set(
      signer,
      standIns.map((c) => c.expires).reduce((a, b) => latest(a, b)),
    );
  }
  return signers;
}

/** undefined means "never expires". */
function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : Math.max(a, b);
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function formatSubject(subject: Readonly<Record<string, string>>): string {
  return `"${Object.entries(subject)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}"`;
}
