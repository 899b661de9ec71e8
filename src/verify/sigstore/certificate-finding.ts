// A verified certificate signature as a finding: the roots that anchored it, the identity, the
// signing time and the log entries (docs/keyless.md "Findings").
import type { CertificateEvidence, LogEntryEvidence, LogProblem, SignatureFinding } from '../types.ts';

interface Origin {
  readonly scheme: SignatureFinding['scheme'];
  readonly source: string;
}

export function certificateFinding(
  origin: Origin,
  outcome: { readonly certificates: readonly CertificateEvidence[]; readonly logEntries: readonly LogEntryEvidence[] },
): SignatureFinding {
  // A certificate checked at its signing time stays good; one checked at evaluation time (a PKI
  // root with no trusted time) counts only until it expires.
  const atVerification = outcome.certificates.filter((c) => c.signingTime.source === 'verification-time');
  const notAfter = atVerification.length === 0 ? undefined : Math.min(...atVerification.map((c) => c.pathNotAfter));
  return {
    scheme: origin.scheme,
    source: origin.source,
    verifiedBy: outcome.certificates.map((c) => c.root),
    certificates: outcome.certificates,
    logEntries: outcome.logEntries,
    ...(notAfter === undefined ? {} : { notAfter }),
  };
}

/** A key-based finding with its log evidence: the entries that verified, and why others did not (absent when empty). */
export function withKeyLogs(
  found: SignatureFinding,
  logs: { readonly logEntries: readonly LogEntryEvidence[]; readonly problems: readonly LogProblem[] },
): SignatureFinding {
  return {
    ...found,
    ...(logs.logEntries.length === 0 ? {} : { logEntries: logs.logEntries }),
    ...(logs.problems.length === 0 ? {} : { logProblems: logs.problems }),
  };
}
