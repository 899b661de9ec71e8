import { isDigest, type Digest } from '../oci/reference.ts';
import type { Finding, ScanRecord, Severity } from '../scan/types.ts';
import type { ScanRequest } from './types.ts';

// Scan records and requests as Redis holds them. Anything unreadable decodes to undefined:
// a record that cannot be read is "unscanned" (the pull is denied), never a pass.

const SEVERITIES: readonly Severity[] = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isSeverity = (v: unknown): v is Severity => SEVERITIES.includes(v as Severity);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

function isFinding(v: unknown): v is Finding {
  return (
    isObject(v) &&
    isString(v['id']) &&
    isSeverity(v['severity']) &&
    isString(v['pkg']) &&
    isString(v['installed']) &&
    isString(v['fixedIn'])
  );
}

/** Programmer misuse (not bad input from a client, which the scan module refuses first). */
export function checkRecord(record: ScanRecord): void {
  if (!isDigest(record.digest)) throw new TypeError(`scan store: not a digest: ${JSON.stringify(record.digest)}`);
  if (!Number.isFinite(record.finishedAt)) throw new TypeError('scan store: finishedAt must be a finite number');
}

export function checkRequest(request: ScanRequest): void {
  if (!isDigest(request.digest)) throw new TypeError(`scan store: not a digest: ${JSON.stringify(request.digest)}`);
  if (!Number.isFinite(request.requestedAt)) throw new TypeError('scan store: requestedAt must be a finite number');
}

export function encodeRecord(record: ScanRecord): string {
  const { digest, scanner, finishedAt, source, findings, counts } = record;
  return JSON.stringify({ digest, scanner, finishedAt, source, findings, counts });
}

export function decodeRecord(json: string, digest: Digest): ScanRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isObject(v) || v['digest'] !== digest || !isString(v['scanner']) || !Number.isFinite(v['finishedAt'])) return undefined;
  const { source, findings, counts } = v;
  if ((source !== 'report' && source !== 'attestation') || !Array.isArray(findings) || !findings.every(isFinding)) return undefined;
  if (!isObject(counts) || !SEVERITIES.every((s) => isCount(counts[s]))) return undefined;
  return {
    digest,
    scanner: v['scanner'],
    finishedAt: v['finishedAt'] as number,
    source,
    findings,
    counts: Object.fromEntries(SEVERITIES.map((s) => [s, counts[s]])) as Record<Severity, number>,
  };
}

/** Stream entry fields, in the order XADD writes them. */
export function requestFields(request: ScanRequest): string[] {
  return [request.digest, request.canonicalName, request.upstream, String(request.requestedAt)];
}

/** From a stream entry's flat [field, value, …] list. */
export function decodeRequest(fields: readonly string[]): ScanRequest | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const digest = map.get('digest');
  const canonicalName = map.get('name');
  const upstream = map.get('upstream');
  const requestedAt = Number(map.get('requestedAt'));
  if (digest === undefined || !isDigest(digest) || canonicalName === undefined || upstream === undefined || !Number.isFinite(requestedAt))
    return undefined;
  return { digest, canonicalName, upstream, requestedAt };
}
