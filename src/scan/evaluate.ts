// A rule's scan requirement against the scan on record for one digest (docs/design.md §3). Pure.
import type { Reason } from '../decision/decision.ts';
import { printable } from '../oci/reference.ts';
import type { Digest } from '../oci/reference.ts';
import { formatDuration } from './duration.ts';
import { exemptUntil } from './exemptions.ts';
import { formatRfc3339 } from './rfc3339.ts';
import { SEVERITIES_DESC, emptyCounts, severityRank } from './severity.ts';
import type { Finding, ScanRecord, ScanRequirement, ScanState } from './types.ts';

export interface ScanEvaluation {
  readonly state: ScanState;
  /** Why the pull is refused; empty when the scan does not block. */
  readonly reasons: Reason[];
  /** Epoch ms at which a pass stops holding (the scan goes stale or an exemption expires). */
  readonly notAfter: number | undefined;
}

const MAX_IDS = 5;

/**
 * `requirement` undefined: the rule says nothing about scans, so nothing blocks; a record counts as
 * `passed` (there is nothing to fail against). `required: false`: the record is judged the same way
 * as when required, so the state is informative (explain, metrics), but it never blocks: no reasons
 * and no notAfter. `pending` only matters when there is no record. `digest`, when given, is named
 * in the unscanned/pending messages.
 */
export function evaluateScan(
  requirement: ScanRequirement | undefined,
  record: ScanRecord | undefined,
  pending: boolean,
  canonicalName: string,
  now: number,
  digest?: Digest,
): ScanEvaluation {
  const image = printable(canonicalName) + (digest === undefined ? '' : `@${digest.slice(0, 19)}…`);
  if (record === undefined) {
    const state: ScanState = pending ? 'pending' : 'unscanned';
    if (requirement?.required !== true) return { state, reasons: [], notAfter: undefined };
    const reason: Reason = pending
      ? { code: 'scan_pending', message: `the vulnerability scan of ${image} is still running; no result on record yet` }
      : { code: 'unscanned', message: `no vulnerability scan on record for ${image}; it has been queued` };
    return { state, reasons: [reason], notAfter: undefined };
  }
  if (requirement === undefined) return { state: 'passed', reasons: [], notAfter: undefined };
  const { required } = requirement;

  const staleAt = record.finishedAt + requirement.maxAgeMs;
  if (now >= staleAt) {
    const rescan = pending ? '; a new scan is pending' : '';
    const message = `vulnerability scan is ${formatDuration(now - record.finishedAt)} old (finished ${formatRfc3339(record.finishedAt)}); rule allows ${formatDuration(requirement.maxAgeMs)}${rescan}`;
    return { state: 'stale', reasons: required ? [{ code: 'scan_stale', message }] : [], notAfter: undefined };
  }

  const blocking: Finding[] = [];
  let notAfter = staleAt;
  for (const finding of record.findings) {
    if (!blocks(requirement, finding)) continue;
    if (requirement.ignoreUnfixed && finding.fixedIn === '') continue;
    const until = exemptUntil(requirement.allow, finding, canonicalName, now);
    if (until === undefined) blocking.push(finding);
    else notAfter = Math.min(notAfter, until); // the pass relies on this exemption until it expires
  }
  if (blocking.length > 0) {
    const reasons: Reason[] = required ? [{ code: 'vulnerable', message: vulnerableMessage(blocking, requirement) }] : [];
    return { state: 'failed', reasons, notAfter: undefined };
  }
  return { state: 'passed', reasons: [], notAfter: required ? notAfter : undefined };
}

// Severity alone: LOW < MEDIUM < HIGH < CRITICAL against maxSeverity; UNKNOWN only by blockUnknown.
// A maxSeverity of UNKNOWN lets no known severity pass.
function blocks(requirement: ScanRequirement, finding: Finding): boolean {
  if (finding.severity === 'UNKNOWN') return requirement.blockUnknown;
  return severityRank(finding.severity) > severityRank(requirement.maxSeverity);
}

/** `2 CRITICAL, 1 HIGH above the allowed MEDIUM: CVE-2019-1549, CVE-2019-1551` (at most five ids, most severe first). */
function vulnerableMessage(blocking: readonly Finding[], requirement: ScanRequirement): string {
  const counts = emptyCounts();
  for (const finding of blocking) counts[finding.severity] += 1;
  const known = SEVERITIES_DESC.filter((s) => s !== 'UNKNOWN' && counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  const parts: string[] = [];
  if (known.length > 0) parts.push(`${known.join(', ')} above the allowed ${requirement.maxSeverity}`);
  if (counts.UNKNOWN > 0) parts.push(`${counts.UNKNOWN} of UNKNOWN severity, which the rule blocks`);
  const ordered = [...blocking].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const ids = [...new Set(ordered.map((f) => printable(f.id, 40)))];
  const shown = ids.slice(0, MAX_IDS).join(', ') + (ids.length > MAX_IDS ? ', …' : '');
  return `${parts.join('; ')}: ${shown}`;
}
