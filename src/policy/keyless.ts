// Keyless and PKI certificate signatures judged by a rule's keyless authorities (docs/keyless.md
// "Policy"): which root, which identity, whether a log entry and a trusted signing time stand behind it.
import type { Reason } from '../decision/decision.ts';
import type { CertificateEvidence, CertificateIdentity, SignatureFinding } from '../verify/types.ts';
import type { KeylessAuthority, KeylessIdentity, Rule, TransparencyLogMode, ValueMatch } from './types.ts';

export interface KeylessJudgement {
  /** Signer names (`<root>/<name>`) this finding counts for. */
  readonly signers: readonly string[];
  readonly problems: readonly Reason[];
}

/** What evaluation knows of a root beyond the finding: whether it may be used, and whether it is PKI. */
export interface RootFacts {
  /** Why the trust-store entry may not vouch (revoked, out of scope, outside its window), or undefined. */
  refusal(id: string): Reason | undefined;
  /** True when the root lists no transparency log (bring-your-own PKI). */
  isPki(id: string): boolean;
}

export function judgeKeyless(finding: SignatureFinding, rule: Rule, roots: RootFacts): KeylessJudgement {
  const signers: string[] = [];
  const problems: Reason[] = [];
  const authorities = rule.signatures.keyless;
  if (authorities.length === 0) {
    return {
      signers,
      problems: [{ code: 'untrusted_signer', message: `a certificate signature, and rule "${rule.name}" lists no keyless authority` }],
    };
  }
  for (const evidence of finding.certificates ?? []) {
    const mine = authorities.filter((a) => a.root === evidence.root);
    if (mine.length === 0) {
      problems.push({
        code: 'untrusted_signer',
        message: `sigstore root "${evidence.root}" is not a keyless authority of rule "${rule.name}"`,
      });
      continue;
    }
    const refusal = roots.refusal(evidence.root);
    if (refusal !== undefined) {
      problems.push(refusal);
      continue;
    }
    for (const authority of mine) {
      const problem = logAndTimeProblem(authority, evidence, finding, roots.isPki(evidence.root));
      if (problem !== undefined) {
        problems.push(problem);
        continue;
      }
      const matched = authority.identities.filter((identity) => identityMatches(identity, evidence.identity, roots.isPki(evidence.root)));
      if (matched.length === 0) {
        problems.push({
          code: 'identity_mismatch',
          message: `certificate for ${describeIdentity(evidence.identity)} is not an identity rule "${rule.name}" accepts from "${evidence.root}"`,
        });
      }
      signers.push(...matched.map((identity) => identity.signer));
    }
  }
  return { signers: [...new Set(signers)], problems };
}

/**
 * `required` needs a verified entry in this root's logs; without a trusted signing time a
 * certificate counts only under `off`, which a root with logs never gets (it is read as `required`).
 */
function logAndTimeProblem(
  authority: KeylessAuthority,
  evidence: CertificateEvidence,
  finding: SignatureFinding,
  pki: boolean,
): Reason | undefined {
  const mode: TransparencyLogMode = authority.transparencyLog === 'off' && !pki ? 'required' : authority.transparencyLog;
  if (evidence.signingTime.source === 'verification-time' && mode !== 'off') {
    return {
      code: 'tlog_missing',
      message: `no trusted signing time (no log inclusion promise, no RFC 3161 timestamp) for a certificate from "${evidence.root}"`,
    };
  }
  if (mode === 'required' && !(finding.logEntries ?? []).some((entry) => entry.root === evidence.root)) {
    const offNote = authority.transparencyLog === 'off' ? ' (transparencyLog: off applies only to a bring-your-own PKI root)' : '';
    return { code: 'tlog_missing', message: `no verified transparency-log entry from "${evidence.root}"${offNote}` };
  }
  return undefined;
}

function identityMatches(identity: KeylessIdentity, certificate: CertificateIdentity, pki: boolean): boolean {
  if (
    identity.issuer === undefined
      ? certificate.issuer !== undefined
      : certificate.issuer === undefined || !matches(identity.issuer, certificate.issuer)
  ) {
    return false;
  }
  // DNS names identify a machine certificate of a bring-your-own PKI, never a Fulcio identity.
  const subjects = [...certificate.emails, ...certificate.uris, ...(pki ? certificate.dnsNames : [])];
  if (!subjects.some((subject) => matches(identity.subject, subject))) return false;
  return Object.entries(identity.githubWorkflow).every(
    ([claim, value]) => certificate.githubWorkflow?.[claim as keyof NonNullable<CertificateIdentity['githubWorkflow']>] === value,
  );
}

function matches(match: ValueMatch, value: string): boolean {
  return 'exact' in match ? match.exact === value : match.regExp.test(value);
}

/** `"a@b.example" (issuer https://…)`: bounded, for messages. */
function describeIdentity(identity: CertificateIdentity): string {
  const subject = [...identity.emails, ...identity.uris, ...identity.dnsNames][0] ?? 'no subject';
  const clip = (text: string): string => (text.length > 120 ? `${text.slice(0, 120)}…` : text);
  return `"${clip(subject)}"${identity.issuer === undefined ? '' : ` (issuer ${clip(identity.issuer)})`}`;
}
