// parseTrivyReport on the real Trivy golden report (trivy-1) and on reports of our own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Digest } from '../../src/oci/reference.ts';
import { ScanReportError } from '../../src/scan/errors.ts';
import { normalizeResults } from '../../src/scan/findings.ts';
import { parseTrivyReport } from '../../src/scan/trivy-report.ts';
import type { ScanRecord } from '../../src/scan/types.ts';
import { CONFIG_DIGEST, GOLDEN, MANIFEST_DIGEST, MINUTE } from './fixtures.ts';

const NOW = Date.parse('2021-09-01T00:00:00Z');
const OPTIONS = { maxSkewMs: 5 * MINUTE, maxBytes: 1 << 20 };
const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest;
const CONFIG = `sha256:${'cd'.repeat(32)}` as Digest;
const NAME = 'registry.example/team/app';
const SUBJECT = { digest: DIGEST, configDigest: CONFIG, canonicalName: NAME };
type Json = Record<string, any>;

const vuln = (id: string, severity: unknown, extra: Json = {}): Json => ({
  VulnerabilityID: id,
  PkgName: 'openssl',
  InstalledVersion: '1.0',
  FixedVersion: '1.1',
  Severity: severity,
  ...extra,
});
const report = (extra: Json = {}, vulnerabilities: Json[] = []): Json => ({
  SchemaVersion: 2,
  CreatedAt: '2021-08-31T10:00:00.123456789Z',
  ArtifactName: `${NAME}:v1`,
  ArtifactType: 'container_image',
  Metadata: { ImageID: `sha256:${'ee'.repeat(32)}`, RepoDigests: [`${NAME}@${DIGEST}`] },
  Results: [{ Target: 'app (debian 12)', Class: 'os-pkgs', Vulnerabilities: vulnerabilities }],
  ...extra,
});
const parse = (json: unknown, subject = SUBJECT, now = NOW, options = OPTIONS): ScanRecord =>
  parseTrivyReport(Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)), subject, now, options);
const rejects = (json: unknown, field: string, message: string, subject = SUBJECT, now = NOW, options = OPTIONS): void => {
  assert.throws(
    () => parse(json, subject, now, options),
    (error: unknown) => {
      assert.ok(error instanceof ScanReportError);
      assert.equal(error.field, field);
      assert.equal(error.message, message);
      return true;
    },
  );
};

describe('trivy-1: the real alpine-310 golden report', () => {
  const subject = { digest: MANIFEST_DIGEST, configDigest: CONFIG_DIGEST, canonicalName: 'ghcr.io/aquasecurity/trivy-test-images' };
  test('belongs to the dir-img-cosign-valid manifest through its config digest (Metadata.ImageID) › valid', () => {
    assert.equal(CONFIG_DIGEST, 'sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4');
    const record = parseTrivyReport(GOLDEN, subject, NOW, OPTIONS);
    assert.equal(record.digest, MANIFEST_DIGEST);
    assert.equal(record.source, 'report');
    assert.equal(record.scanner, 'trivy dev');
    assert.equal(record.finishedAt, Date.parse('2021-08-25T12:20:30Z'));
    assert.deepEqual(record.counts, { UNKNOWN: 0, LOW: 0, MEDIUM: 4, HIGH: 0, CRITICAL: 0 });
    assert.deepEqual(
      record.findings.map((f) => [f.id, f.pkg, f.installed, f.fixedIn, f.severity]),
      [
        ['CVE-2019-1549', 'libcrypto1.1', '1.1.1c-r0', '1.1.1d-r0', 'MEDIUM'],
        ['CVE-2019-1551', 'libcrypto1.1', '1.1.1c-r0', '1.1.1d-r2', 'MEDIUM'],
        ['CVE-2019-1549', 'libssl1.1', '1.1.1c-r0', '1.1.1d-r0', 'MEDIUM'],
        ['CVE-2019-1551', 'libssl1.1', '1.1.1c-r0', '1.1.1d-r2', 'MEDIUM'],
      ],
    );
    assert.deepEqual([...new Set(record.findings.map((f) => f.id))], ['CVE-2019-1549', 'CVE-2019-1551']);
  });
  test('filed under another manifest whose config differs › rejected', () => {
    assert.throws(() => parseTrivyReport(GOLDEN, { ...subject, configDigest: CONFIG }, NOW, OPTIONS), ScanReportError);
  });
  test('filed under an index (no config digest) › rejected: the ImageID cannot be compared', () => {
    assert.throws(
      () => parseTrivyReport(GOLDEN, { ...subject, configDigest: undefined }, NOW, OPTIONS),
      /ImageID "sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4" cannot be compared: the manifest has no config$/,
    );
  });
});

describe('findings', () => {
  test('each severity is counted; case is normalized; unknown names, missing and null are UNKNOWN', () => {
    const record = parse(
      report({}, [
        vuln('CVE-1', 'LOW'),
        vuln('CVE-2', 'MEDIUM'),
        vuln('CVE-3', 'HIGH'),
        vuln('CVE-4', 'CRITICAL'),
        vuln('CVE-5', 'UNKNOWN'),
        vuln('CVE-6', 'critical'),
        vuln('CVE-7', ' High '),
        vuln('CVE-8', 'NEGLIGIBLE'),
        vuln('CVE-9', undefined),
        vuln('CVE-10', null),
      ]),
    );
    assert.deepEqual(record.counts, { UNKNOWN: 4, LOW: 1, MEDIUM: 1, HIGH: 2, CRITICAL: 2 });
    assert.deepEqual(
      record.findings.map((f) => f.severity),
      ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN', 'CRITICAL', 'HIGH', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN'],
    );
  });
  test('no FixedVersion (absent, null or empty) › unfixed: fixedIn is empty', () => {
    const record = parse(
      report({}, [
        vuln('CVE-1', 'HIGH', { FixedVersion: undefined }),
        vuln('CVE-2', 'HIGH', { FixedVersion: null }),
        vuln('CVE-3', 'HIGH', { FixedVersion: '' }),
      ]),
    );
    assert.deepEqual(
      record.findings.map((f) => f.fixedIn),
      ['', '', ''],
    );
  });
  test('duplicates by (id, package, installed) across results collapse into one, keeping what blocks more', () => {
    const json = report({}, [vuln('CVE-1', 'LOW', { FixedVersion: '' }), vuln('CVE-2', 'HIGH')]);
    json.Results.push({
      Target: 'layer 2',
      Vulnerabilities: [
        vuln('CVE-1', 'CRITICAL'),
        vuln('CVE-2', 'UNKNOWN'),
        vuln('CVE-1', 'LOW', { InstalledVersion: '0.9' }),
        vuln('CVE-1', 'LOW', { PkgName: 'libssl' }),
      ],
    });
    const record = parse(json);
    assert.deepEqual(
      record.findings.map((f) => [f.id, f.pkg, f.installed, f.severity, f.fixedIn]),
      [
        ['CVE-1', 'openssl', '1.0', 'CRITICAL', '1.1'],
        ['CVE-2', 'openssl', '1.0', 'HIGH', '1.1'],
        ['CVE-1', 'openssl', '0.9', 'LOW', '1.1'],
        ['CVE-1', 'libssl', '1.0', 'LOW', '1.1'],
      ],
    );
    assert.deepEqual(record.counts, { UNKNOWN: 0, LOW: 2, MEDIUM: 0, HIGH: 1, CRITICAL: 1 });
  });
  test('a clean report: Results absent, or results without Vulnerabilities › no findings', () => {
    const { Results: _, ...clean } = report();
    assert.deepEqual(parse(clean).findings, []);
    assert.deepEqual(parse(report({ Results: [{ Target: 'x' }, { Target: 'y', Vulnerabilities: null }] })).counts, {
      UNKNOWN: 0,
      LOW: 0,
      MEDIUM: 0,
      HIGH: 0,
      CRITICAL: 0,
    });
  });
  test('scanner is trivy plus Trivy.Version when the report carries it', () => {
    assert.equal(parse(report({ Trivy: { Version: '0.50.1' } })).scanner, 'trivy 0.50.1');
    assert.equal(parse(report()).scanner, 'trivy');
  });
  test('belongs through RepoDigests alone, through ImageID alone, and without ArtifactType', () => {
    assert.equal(parse(report({ Metadata: { RepoDigests: [`other.example/mirror@${DIGEST}`] } })).digest, DIGEST);
    assert.equal(parse(report({ Metadata: { ImageID: CONFIG } })).digest, DIGEST);
    const { ArtifactType: _, ...untyped } = report();
    assert.equal(parse(untyped).source, 'report');
  });
  test('finishedAt is CreatedAt (fractions past the millisecond dropped; offsets honoured)', () => {
    assert.equal(parse(report()).finishedAt, Date.parse('2021-08-31T10:00:00.123Z'));
    assert.equal(parse(report({ CreatedAt: '2021-08-31T12:00:00+02:00' })).finishedAt, Date.parse('2021-08-31T10:00:00Z'));
  });
  test('the findings cap counts entries before deduplication', () => {
    const results = [{ Vulnerabilities: [vuln('A', 'LOW'), vuln('A', 'LOW')] }, { Vulnerabilities: [vuln('B', 'LOW'), vuln('C', 'LOW')] }];
    assert.equal(normalizeResults(results, 'Results', 4).findings.length, 3);
    assert.throws(() => normalizeResults(results, 'Results', 3), {
      message: 'invalid scan report: Results holds more than 3 vulnerabilities',
    });
  });
});

describe('rejections, each with its message', () => {
  test('over maxBytes, checked before parsing (at the limit it is read)', () => {
    rejects(' '.repeat(101), '', 'invalid scan report: is 101 bytes; the limit is 100', SUBJECT, NOW, { ...OPTIONS, maxBytes: 100 });
    rejects(' '.repeat(100), '', 'invalid scan report: is not valid JSON', SUBJECT, NOW, { ...OPTIONS, maxBytes: 100 });
  });
  test('invalid JSON', () => rejects('{"SchemaVersion": 2,', '', 'invalid scan report: is not valid JSON'));
  test('not an object', () => {
    rejects('[]', '', 'invalid scan report: is an array, not a JSON object');
    rejects('null', '', 'invalid scan report: is null, not a JSON object');
    rejects('"report"', '', 'invalid scan report: is a string, not a JSON object');
  });
  test('SchemaVersion other than 2', () => {
    rejects(report({ SchemaVersion: 1 }), 'SchemaVersion', 'invalid scan report: SchemaVersion is 1; only 2 is accepted');
    rejects(report({ SchemaVersion: '2' }), 'SchemaVersion', 'invalid scan report: SchemaVersion is "2"; only 2 is accepted');
    rejects(
      report({ SchemaVersion: undefined }),
      'SchemaVersion',
      'invalid scan report: SchemaVersion is missing; only Trivy JSON SchemaVersion 2 is accepted',
    );
  });
  test('ArtifactType present and not container_image', () => {
    rejects(
      report({ ArtifactType: 'filesystem' }),
      'ArtifactType',
      'invalid scan report: ArtifactType is "filesystem"; only container_image reports are accepted',
    );
  });
  test('CreatedAt missing or invalid', () => {
    rejects(report({ CreatedAt: undefined }), 'CreatedAt', 'invalid scan report: CreatedAt is missing');
    rejects(report({ CreatedAt: 'yesterday' }), 'CreatedAt', 'invalid scan report: CreatedAt "yesterday" is not an RFC 3339 date-time');
    rejects(
      report({ CreatedAt: '2021-02-30T00:00:00Z' }),
      'CreatedAt',
      'invalid scan report: CreatedAt "2021-02-30T00:00:00Z" is not an RFC 3339 date-time',
    );
    rejects(
      report({ CreatedAt: '2021-08-31 10:00:00Z' }),
      'CreatedAt',
      'invalid scan report: CreatedAt "2021-08-31 10:00:00Z" is not an RFC 3339 date-time',
    );
    rejects(report({ CreatedAt: 1629894030 }), 'CreatedAt', 'invalid scan report: CreatedAt 1629894030 is not an RFC 3339 date-time');
  });
  test('CreatedAt in the future beyond maxSkewMs (at the limit it passes)', () => {
    const now = Date.parse('2021-08-31T10:00:00Z');
    assert.equal(parse(report({ CreatedAt: '2021-08-31T10:05:00Z' }), SUBJECT, now).finishedAt, now + 5 * MINUTE);
    rejects(
      report({ CreatedAt: '2021-08-31T12:00:00Z' }),
      'CreatedAt',
      'invalid scan report: CreatedAt 2021-08-31T12:00:00Z is 2h in the future (allowed clock skew 5m)',
      SUBJECT,
      now,
    );
  });
  test('a report for another image: neither RepoDigests nor ImageID names it', () => {
    rejects(
      report({ Metadata: { ImageID: `sha256:${'ee'.repeat(32)}`, RepoDigests: [`${NAME}@sha256:${'00'.repeat(32)}`] } }),
      'Metadata',
      `invalid scan report: Metadata does not describe ${NAME}: no RepoDigests entry ends in @${DIGEST}, and ImageID "sha256:${'ee'.repeat(32)}" is not the config digest ${CONFIG}`,
    );
    rejects(
      report({ Metadata: { RepoDigests: [`${NAME}@${DIGEST}x`] } }),
      'Metadata',
      `invalid scan report: Metadata does not describe ${NAME}: no RepoDigests entry ends in @${DIGEST}, and ImageID is absent`,
    );
    rejects(
      report({ Metadata: undefined }),
      'Metadata',
      'invalid scan report: Metadata is missing; it must name the scanned image (RepoDigests or ImageID)',
    );
    rejects(
      report({ Metadata: { RepoDigests: 'x' } }),
      'Metadata.RepoDigests',
      'invalid scan report: Metadata.RepoDigests is not an array of strings',
    );
  });
  test('malformed results and vulnerabilities', () => {
    rejects(report({ Results: {} }), 'Results', 'invalid scan report: Results is not an array');
    rejects(
      report({ Results: [{ Vulnerabilities: {} }] }),
      'Results[0].Vulnerabilities',
      'invalid scan report: Results[0].Vulnerabilities is not an array',
    );
    rejects(
      report({}, [vuln('CVE-1', 'LOW'), vuln('', 'LOW')]),
      'Results[0].Vulnerabilities[1].VulnerabilityID',
      'invalid scan report: Results[0].Vulnerabilities[1].VulnerabilityID is missing or empty',
    );
    rejects(
      report({}, [vuln('CVE-1', 9)]),
      'Results[0].Vulnerabilities[0].Severity',
      'invalid scan report: Results[0].Vulnerabilities[0].Severity is a number, not a string',
    );
  });
  test('bad options are a programmer error (TypeError)', () => {
    assert.throws(() => parse(report(), SUBJECT, NOW, { maxSkewMs: -1, maxBytes: 1 }), TypeError);
  });
});
