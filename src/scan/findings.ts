// Trivy's `Results[].Vulnerabilities[]` (aquasecurity/trivy pkg/types report.go `Result`,
// `DetectedVulnerability`) → deduplicated Findings and per-severity counts. Shared by reports
// posted to the admin API and by the `scanner.result` of cosign vuln attestations.
import { ScanReportError } from './errors.ts';
import { isRecord, kindOf } from './json.ts';
import { emptyCounts, normalizeSeverity, severityRank } from './severity.ts';
import type { Finding, Severity } from './types.ts';

/** Far above any real image (a large one has a few thousand); bounds memory and work per report. */
export const MAX_FINDINGS = 100_000;

export interface NormalizedFindings {
  readonly findings: readonly Finding[];
  readonly counts: Readonly<Record<Severity, number>>;
}

/** `results` is the value of a report's `Results`; `path` names it in errors (`Results`, `predicate.scanner.result.Results`). */
export function normalizeResults(results: unknown, path: string, maxFindings = MAX_FINDINGS): NormalizedFindings {
  // Trivy omits `Results` (omitempty) and `Vulnerabilities` when there is nothing to report.
  if (results === undefined || results === null) return { findings: [], counts: emptyCounts() };
  if (!Array.isArray(results)) throw new ScanReportError(path, 'is not an array');
  const byKey = new Map<string, Finding>();
  let seen = 0;
  results.forEach((result: unknown, r) => {
    if (!isRecord(result)) throw new ScanReportError(`${path}[${r}]`, 'is not an object');
    const vulnerabilities = result['Vulnerabilities'];
    if (vulnerabilities === undefined || vulnerabilities === null) return;
    if (!Array.isArray(vulnerabilities)) throw new ScanReportError(`${path}[${r}].Vulnerabilities`, 'is not an array');
    seen += vulnerabilities.length;
    if (seen > maxFindings) throw new ScanReportError(path, `holds more than ${maxFindings} vulnerabilities`);
    vulnerabilities.forEach((entry: unknown, v) => {
      const finding = toFinding(entry, `${path}[${r}].Vulnerabilities[${v}]`);
      const key = JSON.stringify([finding.id, finding.pkg, finding.installed]);
      const earlier = byKey.get(key);
      byKey.set(key, earlier === undefined ? finding : merge(earlier, finding));
    });
  });
  const findings = [...byKey.values()];
  const counts = emptyCounts();
  for (const finding of findings) counts[finding.severity] += 1;
  return { findings, counts };
}

function toFinding(entry: unknown, at: string): Finding {
  if (!isRecord(entry)) throw new ScanReportError(at, 'is not an object');
  const id = entry['VulnerabilityID'];
  if (typeof id !== 'string' || id.trim() === '') throw new ScanReportError(`${at}.VulnerabilityID`, 'is missing or empty');
  return {
    id: id.trim(),
    severity: normalizeSeverity(optionalString(entry, 'Severity', at)),
    pkg: optionalString(entry, 'PkgName', at),
    installed: optionalString(entry, 'InstalledVersion', at),
    fixedIn: optionalString(entry, 'FixedVersion', at).trim(),
  };
}

/** Absent or null is '' (Go's zero value); any other non-string is refused rather than guessed at. */
function optionalString(entry: Record<string, unknown>, name: string, at: string): string {
  const value = entry[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ScanReportError(`${at}.${name}`, `is ${kindOf(value)}, not a string`);
  return value;
}

/**
 * Two entries for one (id, package, installed version) — Trivy lists a package once per target,
 * so layers and targets repeat them. Keep what blocks more: a known severity over UNKNOWN, the
 * higher of two known ones, and a fixed version over none (so `ignoreUnfixed` cannot hide it).
 */
function merge(a: Finding, b: Finding): Finding {
  const severity =
    a.severity === 'UNKNOWN'
      ? b.severity
      : b.severity === 'UNKNOWN'
        ? a.severity
        : severityRank(b.severity) > severityRank(a.severity)
          ? b.severity
          : a.severity;
  return { ...a, severity, fixedIn: a.fixedIn !== '' ? a.fixedIn : b.fixedIn };
}
