// A Trivy JSON report (`trivy image --format json`, SchemaVersion 2; aquasecurity/trivy
// pkg/types report.go `Report`, `Metadata`) posted to the admin API → one ScanRecord.
import { printable } from '../oci/reference.ts';
import type { Digest } from '../oci/reference.ts';
import { ScanReportError } from './errors.ts';
import { formatDuration } from './duration.ts';
import { normalizeResults } from './findings.ts';
import { describe, isRecord, kindOf } from './json.ts';
import { formatRfc3339, parseRfc3339 } from './rfc3339.ts';
import type { ScanRecord } from './types.ts';

export interface ReportSubject {
  /** The manifest digest the report is filed under. */
  readonly digest: Digest;
  /** The image manifest's `config.digest`, which Trivy reports as `Metadata.ImageID`; undefined for an index. */
  readonly configDigest: Digest | undefined;
  readonly canonicalName: string;
}

export interface ReportOptions {
  /** How far `CreatedAt` may lie ahead of `now` (scanner clocks drift). */
  readonly maxSkewMs: number;
  /** Reports larger than this are refused before parsing. */
  readonly maxBytes: number;
}

/** Pure: validates the report and that it scanned this manifest; throws ScanReportError naming the field. */
export function parseTrivyReport(bytes: Buffer, subject: ReportSubject, now: number, options: ReportOptions): ScanRecord {
  if (!(options.maxBytes > 0) || !(options.maxSkewMs >= 0))
    throw new TypeError('parseTrivyReport: maxBytes must be > 0 and maxSkewMs >= 0');
  if (bytes.length > options.maxBytes) throw new ScanReportError('', `is ${bytes.length} bytes; the limit is ${options.maxBytes}`);
  const report = parseObject(bytes);

  checkHeader(report, '');
  const createdAt = report['CreatedAt'];
  if (createdAt === undefined || createdAt === null) throw new ScanReportError('CreatedAt', 'is missing');
  const finishedAt = parseRfc3339(createdAt);
  if (finishedAt === undefined) throw new ScanReportError('CreatedAt', `${describe(createdAt)} is not an RFC 3339 date-time`);
  if (finishedAt > now + options.maxSkewMs) {
    throw new ScanReportError(
      'CreatedAt',
      `${formatRfc3339(finishedAt)} is ${formatDuration(finishedAt - now)} in the future (allowed clock skew ${formatDuration(options.maxSkewMs)})`,
    );
  }
  checkBelongs(report['Metadata'], subject);

  const { findings, counts } = normalizeResults(report['Results'], 'Results');
  return { digest: subject.digest, scanner: scannerOf(report['Trivy']), finishedAt, source: 'report', findings, counts };
}

/**
 * What any Trivy report we accept must say about itself, also the `scanner.result` of an attestation:
 * JSON schema 2 (Trivy ≥ 0.20), and an image scan when `ArtifactType` is present.
 */
export function checkHeader(report: Readonly<Record<string, unknown>>, prefix: string): void {
  const version = report['SchemaVersion'];
  if (version !== 2) {
    throw new ScanReportError(
      `${prefix}SchemaVersion`,
      version === undefined ? 'is missing; only Trivy JSON SchemaVersion 2 is accepted' : `is ${describe(version)}; only 2 is accepted`,
    );
  }
  const type = report['ArtifactType'];
  if (type !== undefined && type !== 'container_image') {
    throw new ScanReportError(`${prefix}ArtifactType`, `is ${describe(type)}; only container_image reports are accepted`);
  }
}

// A report names its image by repo digest (`name@sha256:…`, the manifest as pulled) and by
// image ID (the config digest). Either ties it to the manifest; ArtifactName is only a label.
function checkBelongs(metadata: unknown, subject: ReportSubject): void {
  if (!isRecord(metadata)) throw new ScanReportError('Metadata', 'is missing; it must name the scanned image (RepoDigests or ImageID)');
  const repoDigests = metadata['RepoDigests'] ?? [];
  if (!Array.isArray(repoDigests) || !repoDigests.every((d) => typeof d === 'string')) {
    throw new ScanReportError('Metadata.RepoDigests', 'is not an array of strings');
  }
  if (repoDigests.some((d: string) => d.endsWith(`@${subject.digest}`))) return;
  const imageId = metadata['ImageID'];
  if (subject.configDigest !== undefined && imageId === subject.configDigest) return;
  const hasId = typeof imageId === 'string' && imageId !== '';
  const id = !hasId
    ? 'ImageID is absent'
    : subject.configDigest === undefined
      ? `ImageID ${describe(imageId)} cannot be compared: the manifest has no config`
      : `ImageID ${describe(imageId)} is not the config digest ${subject.configDigest}`;
  throw new ScanReportError(
    'Metadata',
    `does not describe ${printable(subject.canonicalName)}: no RepoDigests entry ends in @${subject.digest}, and ${id}`,
  );
}

function parseObject(bytes: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ScanReportError('', 'is not valid JSON');
  }
  if (!isRecord(value)) throw new ScanReportError('', `is ${kindOf(value)}, not a JSON object`);
  return value;
}

/** `trivy 0.50.1`, or `trivy` when the report does not carry `Trivy.Version` (older releases). */
function scannerOf(trivy: unknown): string {
  const version = isRecord(trivy) ? trivy['Version'] : undefined;
  return typeof version === 'string' && version.trim() !== '' ? `trivy ${printable(version.trim(), 64)}` : 'trivy';
}
