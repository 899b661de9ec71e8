// Pure scan handling: Trivy reports in, ScanRecords out; a rule's requirement judged against them.
export { parseTrivyReport } from './trivy-report.ts';
export type { ReportOptions, ReportSubject } from './trivy-report.ts';
export { evaluateScan } from './evaluate.ts';
export type { ScanEvaluation } from './evaluate.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { ScanReportError, isScanReportError } from './errors.ts';
export { normalizeResults, MAX_FINDINGS } from './findings.ts';
export { normalizeSeverity, severityRank, SEVERITIES_DESC } from './severity.ts';
export { parseRfc3339, formatRfc3339 } from './rfc3339.ts';
export type { Exemption, Finding, ScanRecord, ScanRequirement, ScanState, Severity } from './types.ts';
