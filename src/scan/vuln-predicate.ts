// The cosign vuln/v1 predicate (cosign specs/COSIGN_VULN_ATTESTATION_SPEC.md; Go struct
// CosignVulnPredicate: `scanner` {uri, version, db, result}, `metadata` {scanStartedOn, scanFinishedOn}).
import type { Digest } from '../oci/reference.ts';
import { printable } from '../oci/reference.ts';
import { formatDuration } from './duration.ts';
import { ScanReportError } from './errors.ts';
import { normalizeResults } from './findings.ts';
import { describe, isRecord } from './json.ts';
import { formatRfc3339, parseRfc3339 } from './rfc3339.ts';
import { checkHeader } from './trivy-report.ts';
import type { ScanRecord } from './types.ts';

/** How far `scanFinishedOn` may lie ahead of `now`: a scanner key must not buy freshness with a future date. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** The vuln/v1 predicate → a ScanRecord; throws ScanReportError naming the predicate field. */
export function vulnPredicateRecord(predicate: unknown, digest: Digest, now: number): ScanRecord {
  if (!isRecord(predicate)) throw new ScanReportError('predicate', 'is not an object');
  const metadata = predicate['metadata'];
  const finished = isRecord(metadata) ? metadata['scanFinishedOn'] : undefined;
  if (finished === undefined) throw new ScanReportError('predicate.metadata.scanFinishedOn', 'is missing');
  const finishedAt = parseRfc3339(finished);
  if (finishedAt === undefined)
    throw new ScanReportError('predicate.metadata.scanFinishedOn', `${describe(finished)} is not an RFC 3339 date-time`);
  if (finishedAt > now + MAX_FUTURE_SKEW_MS)
    throw new ScanReportError(
      'predicate.metadata.scanFinishedOn',
      `${formatRfc3339(finishedAt)} is ${formatDuration(finishedAt - now)} in the future`,
    );
  const scanner = predicate['scanner'];
  if (!isRecord(scanner)) throw new ScanReportError('predicate.scanner', 'is missing or not an object');
  // `scanner.result` is free-form in the spec; we accept Trivy's report, the one format we can read.
  const result = scanner['result'];
  if (!isRecord(result)) throw new ScanReportError('predicate.scanner.result', 'is missing; it must hold a Trivy JSON report');
  checkHeader(result, 'predicate.scanner.result.');
  const { findings, counts } = normalizeResults(result['Results'], 'predicate.scanner.result.Results');
  return { digest, scanner: scannerName(scanner), finishedAt, source: 'attestation', findings, counts };
}

/** `pkg:github/aquasecurity/trivy@v0.30.1`; the version is appended only when the URI does not end in it. */
function scannerName(scanner: Readonly<Record<string, unknown>>): string {
  const text = (key: string): string => (typeof scanner[key] === 'string' ? (scanner[key] as string).trim() : '');
  const uri = text('uri');
  const version = text('version');
  const name = uri === '' ? version : version === '' || uri.endsWith(`@${version}`) ? uri : `${uri} ${version}`;
  return name === '' ? 'unknown scanner' : printable(name, 120);
}
