// Trivy reports, vuln attestations, RFC 3339 times, durations and the scan rule (src/scan,
// src/verify/cosign/vuln-attestation.ts). A report is a ScanRecord of the manifest it names or a
// ScanReportError; an attestation counts only when its signed bytes are the ones made here.
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import fc from 'fast-check';
import { parseDuration } from '../../../src/scan/duration.ts';
import { ScanReportError } from '../../../src/scan/errors.ts';
import { evaluateScan } from '../../../src/scan/evaluate.ts';
import { formatRfc3339, parseRfc3339 } from '../../../src/scan/rfc3339.ts';
import { parseTrivyReport } from '../../../src/scan/trivy-report.ts';
import type { Exemption, Finding, ScanRecord, ScanRequirement, Severity } from '../../../src/scan/types.ts';
import type { Digest } from '../../../src/oci/reference.ts';
import { verifyVulnAttestation } from '../../../src/verify/cosign/vuln-attestation.ts';
import { dssePae } from '../../kit/cosign-sign.ts';
import {
  anyDigest,
  anyText,
  applyEdits,
  assertTyped,
  bitFlip,
  deepValue,
  flipBit,
  hostileBody,
  jsonEdit,
  jsonish,
  jsonText,
  settle,
  type JsonEdit,
} from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';
import { sharedCosignKeys } from './crypto-kit.ts';

const SEVERITIES: readonly Severity[] = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const RANK: Record<Severity, number> = { UNKNOWN: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };
const NOW = Date.parse('2025-06-01T12:00:00Z');
const OPTIONS = { maxSkewMs: 300_000, maxBytes: 1_048_576 };
const NAME = 'registry.test/app/one';

const severityText = fc.oneof(fc.constantFrom(...SEVERITIES), fc.constantFrom('critical', ' High ', 'moderate', ''), anyText);
const vulnerability = fc.record(
  {
    VulnerabilityID: fc.oneof(fc.stringMatching(/^CVE-20[0-9]{2}-[0-9]{4,5}$/), anyText),
    PkgName: fc.constantFrom('openssl', 'zlib', 'busybox'),
    InstalledVersion: fc.constantFrom('1.0', '1.1'),
    FixedVersion: fc.constantFrom('', '1.2', ' '),
    Severity: severityText,
  },
  { requiredKeys: ['VulnerabilityID'] },
);

interface ReportCase {
  readonly report: Record<string, unknown>;
  readonly subject: { digest: Digest; configDigest: Digest | undefined; canonicalName: string };
}

const reportCase: fc.Arbitrary<ReportCase> = fc
  .record({
    digest: anyDigest,
    configDigest: fc.option(anyDigest, { nil: undefined }),
    tiedBy: fc.constantFrom('repo-digest', 'image-id', 'both', 'neither'),
    createdAgoMs: fc.integer({ min: -600_000, max: 30 * 86_400_000 }),
    results: fc.array(
      fc.record({ Target: anyText, Vulnerabilities: fc.array(vulnerability, { maxLength: 6 }) }, { requiredKeys: ['Target'] }),
      { maxLength: 3 },
    ),
    trivy: fc.option(fc.record({ Version: anyText }), { nil: undefined }),
  })
  .map(({ digest, configDigest, tiedBy, createdAgoMs, results, trivy }) => {
    const repo = tiedBy === 'repo-digest' || tiedBy === 'both';
    const image = (tiedBy === 'image-id' || tiedBy === 'both') && configDigest !== undefined;
    return {
      subject: { digest, configDigest, canonicalName: NAME },
      report: {
        SchemaVersion: 2,
        CreatedAt: new Date(NOW - createdAgoMs).toISOString(),
        ArtifactName: `${NAME}@${digest}`,
        ArtifactType: 'container_image',
        Metadata: {
          ImageID: image ? configDigest : `sha256:${'0'.repeat(64)}`,
          RepoDigests: repo ? [`${NAME}@${digest}`] : [`${NAME}@sha256:${'1'.repeat(64)}`],
        },
        Results: results,
        ...(trivy === undefined ? {} : { Trivy: trivy }),
      },
    };
  });

/** Puts a hostile value (deeply nested, say) at one of the fields the parser reads. */
const FIELDS = [
  ['SchemaVersion'],
  ['ArtifactType'],
  ['CreatedAt'],
  ['Metadata'],
  ['Metadata', 'RepoDigests'],
  ['Metadata', 'ImageID'],
  ['Results'],
  ['Trivy'],
  ['Trivy', 'Version'],
] as const;
export const planted = fc.record({ field: fc.constantFrom(...FIELDS), value: fc.oneof(jsonish, deepValue) });

export function plant(report: Record<string, unknown>, field: readonly string[], value: unknown): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  const [first, second] = field;
  if (second === undefined) copy[first!] = value;
  else copy[first!] = { ...(typeof copy[first!] === 'object' && copy[first!] !== null ? (copy[first!] as object) : {}), [second]: value };
  return copy;
}

function assertRecord(record: ScanRecord, digest: Digest): void {
  assert.equal(record.digest, digest);
  assert.ok(record.source === 'report' || record.source === 'attestation');
  assert.ok(Number.isFinite(record.finishedAt) && record.finishedAt <= NOW + OPTIONS.maxSkewMs);
  assert.equal(
    Object.values(record.counts).reduce((a, b) => a + b, 0),
    record.findings.length,
  );
  for (const f of record.findings) {
    assert.ok(SEVERITIES.includes(f.severity));
    assert.ok(f.id !== '' && f.id === f.id.trim());
  }
  assert.equal(typeof record.scanner, 'string');
}

/** Whether the report, as sent, names this manifest (RepoDigests) or its config (ImageID). */
function belongs(report: unknown, subject: ReportCase['subject']): boolean {
  const metadata = (report as { Metadata?: unknown } | null)?.Metadata as { RepoDigests?: unknown; ImageID?: unknown } | undefined;
  if (typeof metadata !== 'object' || metadata === null) return false;
  const repo =
    Array.isArray(metadata.RepoDigests) && metadata.RepoDigests.some((d) => typeof d === 'string' && d.endsWith(`@${subject.digest}`));
  return repo || (subject.configDigest !== undefined && metadata.ImageID === subject.configDigest);
}

function checkReport(bytes: Buffer, subject: ReportCase['subject'], sent: unknown): void {
  const result = settle(() => parseTrivyReport(bytes, subject, NOW, OPTIONS));
  if (!result.ok) return assertTyped(result.error, ScanReportError);
  assertRecord(result.value, subject.digest);
  assert.ok(belongs(sent, subject), 'a report that names neither the manifest nor its config was accepted');
}

// ---- the scan rule -------------------------------------------------------------------------

const finding: fc.Arbitrary<Finding> = fc.record({
  id: fc.constantFrom('CVE-2024-0001', 'CVE-2024-0002', 'cve-2024-0003'),
  severity: fc.constantFrom(...SEVERITIES),
  pkg: fc.constantFrom('a', 'b'),
  installed: fc.constant('1'),
  fixedIn: fc.constantFrom('', '2'),
});
const requirement: fc.Arbitrary<ScanRequirement> = fc.record({
  required: fc.boolean(),
  maxSeverity: fc.constantFrom(...SEVERITIES),
  blockUnknown: fc.boolean(),
  maxAgeMs: fc.integer({ min: 1, max: 30 * 86_400_000 }),
  ignoreUnfixed: fc.boolean(),
  allow: fc.array(
    fc.record(
      {
        id: fc.constantFrom('CVE-2024-0001', ' cve-2024-0002 ', 'CVE-2024-0003'),
        expires: fc.integer({ min: NOW - 86_400_000, max: NOW + 86_400_000 }),
        repository: fc.constantFrom('registry.test/**', 'other.test/**', '[bad'),
      },
      { requiredKeys: ['id', 'expires'] },
    ),
    { maxLength: 3 },
  ),
});
const record: fc.Arbitrary<ScanRecord> = fc
  .record({
    findings: fc.array(finding, { maxLength: 6 }),
    ageMs: fc.integer({ min: 0, max: 40 * 86_400_000 }),
  })
  .map(({ findings, ageMs }) => ({
    digest: `sha256:${'a'.repeat(64)}`,
    scanner: 'trivy',
    finishedAt: NOW - ageMs,
    source: 'report',
    findings,
    counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
  }));

/** Written out from docs/design.md §3 independently of evaluate.ts: does some finding block with no live exemption? */
function blockedByFinding(req: ScanRequirement, rec: ScanRecord): boolean {
  const exempt = (f: Finding, e: Exemption): boolean =>
    e.id.trim().toUpperCase() === f.id.toUpperCase() &&
    NOW < e.expires &&
    (e.repository === undefined || e.repository === 'registry.test/**');
  return rec.findings.some((f) => {
    const blocks = f.severity === 'UNKNOWN' ? req.blockUnknown : RANK[f.severity] > RANK[req.maxSeverity];
    return blocks && !(req.ignoreUnfixed && f.fixedIn === '') && !req.allow.some((e) => exempt(f, e));
  });
}

// ---- vuln attestations ---------------------------------------------------------------------

const IN_TOTO = 'application/vnd.in-toto+json';
type AttMutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip-payload' | 'flip-signature'; readonly flip: { index: number; bit: number } }
  | { readonly kind: 'other-digest'; readonly digest: string }
  | { readonly kind: 'edits-resigned'; readonly edits: readonly JsonEdit[] }
  | { readonly kind: 'attacker' }
  | { readonly kind: 'envelope-edits'; readonly edits: readonly JsonEdit[] };

const attMutation: fc.Arbitrary<AttMutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constantFrom('flip-payload' as const, 'flip-signature' as const), flip: bitFlip }),
  fc.record({ kind: fc.constant('other-digest' as const), digest: anyDigest }),
  fc.record({ kind: fc.constant('edits-resigned' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 4 }) }),
  fc.constant({ kind: 'attacker' as const }),
  fc.record({ kind: fc.constant('envelope-edits' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
);

export const scanTarget: FuzzTarget = {
  name: 'scan',
  async open() {
    const keys = sharedCosignKeys();
    const scanner = keys.trusted[0]!;
    const attacker = keys.attackers[0]!;
    const statement = (digest: string, vulns: unknown[]): Record<string, unknown> => ({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      subject: [{ name: NAME, digest: { sha256: digest.slice(7) } }],
      predicate: {
        scanner: {
          uri: 'pkg:github/aquasecurity/trivy@v0.50.0',
          version: '0.50.0',
          result: { SchemaVersion: 2, ArtifactType: 'container_image', Results: [{ Target: 't', Vulnerabilities: vulns }] },
        },
        metadata: { scanStartedOn: new Date(NOW - 120_000).toISOString(), scanFinishedOn: new Date(NOW - 60_000).toISOString() },
      },
    });
    const envelope = (payload: Buffer, key = scanner.privateKey): Record<string, unknown> => ({
      payloadType: IN_TOTO,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', dssePae(IN_TOTO, payload), key).toString('base64') }],
    });
    const attest = (bytes: Buffer, digest: Digest) => {
      const result = settle(() => verifyVulnAttestation({ envelope: bytes, source: 'fuzz' }, { digest }, keys.material.keys, NOW));
      assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
      const r = result.value;
      assert.ok(r.verifiedBy.every((id) => keys.material.keys.some((k) => k.id === id)));
      assert.ok((r.record === undefined) !== (r.failure === undefined), 'exactly one of record and failure');
      if (r.failure !== undefined) assert.ok(['format', 'crypto', 'digest'].includes(r.failure.kind));
      if (r.record !== undefined) assertRecord(r.record, digest);
      return r;
    };
    return {
      properties: [
        {
          name: 'Trivy report: hostile bytes give a ScanReportError, never another error',
          property: fc.property(hostileBody, anyDigest, (bytes, digest) =>
            checkReport(bytes, { digest, configDigest: undefined, canonicalName: NAME }, undefined),
          ),
        },
        {
          name: 'Trivy report: generated reports are accepted exactly when they name the manifest; edited ones give a record of it or a ScanReportError',
          property: fc.property(
            reportCase,
            fc.array(jsonEdit, { maxLength: 3 }),
            fc.option(planted, { nil: undefined }),
            (c, edits, plantedValue) => {
              const clean = settle(() => parseTrivyReport(Buffer.from(JSON.stringify(c.report)), c.subject, NOW, OPTIONS));
              const fresh = Date.parse(c.report['CreatedAt'] as string) <= NOW + OPTIONS.maxSkewMs;
              const ids = (c.report['Results'] as { Vulnerabilities?: { VulnerabilityID: string }[] }[]).flatMap((r) =>
                (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID),
              );
              if (belongs(c.report, c.subject) && fresh && ids.every((id) => id.trim() !== ''))
                assert.ok(clean.ok, `refused: ${String(!clean.ok && clean.error)}`);
              if (!belongs(c.report, c.subject)) assert.ok(!clean.ok);
              const sent =
                plantedValue === undefined ? applyEdits(c.report, edits) : plant(c.report, plantedValue.field, plantedValue.value);
              checkReport(Buffer.from(jsonText(sent)), c.subject, sent);
            },
          ),
        },
        {
          name: 'scan rule: the state is from the closed set, and a required scan with a blocking finding, a stale or a missing record never passes',
          property: fc.property(requirement, fc.option(record, { nil: undefined }), fc.boolean(), (req, rec, pending) => {
            const result = evaluateScan(req, rec, pending, NAME, NOW, `sha256:${'a'.repeat(64)}`);
            assert.ok(['unscanned', 'pending', 'passed', 'failed', 'stale'].includes(result.state));
            for (const r of result.reasons) assert.ok(['unscanned', 'scan_pending', 'scan_stale', 'vulnerable'].includes(r.code));
            if (!req.required) assert.deepEqual(result.reasons, []);
            if (req.required) assert.equal(result.reasons.length === 0, result.state === 'passed');
            if (rec === undefined) assert.equal(result.state, pending ? 'pending' : 'unscanned');
            else if (NOW >= rec.finishedAt + req.maxAgeMs) assert.equal(result.state, 'stale');
            else assert.equal(result.state, blockedByFinding(req, rec) ? 'failed' : 'passed');
            if (result.notAfter !== undefined) assert.ok(result.notAfter > NOW && result.state === 'passed');
          }),
        },
        {
          name: 'RFC 3339 and durations: parsers return a value or their typed refusal; formatted values read back',
          property: fc.property(
            fc.oneof(
              anyText,
              fc.integer({ min: 0, max: 2 ** 41 }).map((ms) => new Date(ms).toISOString()),
              fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/),
            ),
            fc.integer({ min: 0, max: 2 ** 41 }),
            fc.oneof(
              anyText,
              fc.tuple(fc.nat({ max: 10 ** 9 }), fc.constantFrom('s', 'm', 'h', 'd', 'w', '', 'y', 'D')).map(([n, u]) => `${n}${u}`),
            ),
            (text, ms, duration) => {
              const parsed = parseRfc3339(text);
              assert.ok(parsed === undefined || Number.isFinite(parsed));
              assert.equal(parseRfc3339(formatRfc3339(ms)), Math.floor(ms / 1000) * 1000);
              const d = settle(() => parseDuration(duration));
              if (!d.ok) return assertTyped(d.error, TypeError);
              const m = /^(\d+)([smhdw])$/.exec(duration.trim());
              assert.ok(m !== null && Number.isSafeInteger(d.value) && d.value > 0);
              assert.equal(d.value, Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2] as 's']);
            },
          ),
        },
        {
          name: 'vuln attestation: the signed statement gives a record; mutated bytes, signature, subject or key never do; re-signed edits never throw',
          property: fc.property(anyDigest, fc.array(vulnerability, { maxLength: 4 }), attMutation, (digest, vulns, m) => {
            const payload = Buffer.from(JSON.stringify(statement(digest, vulns)));
            const env = envelope(payload);
            const b64 = (b: Buffer): string => b.toString('base64');
            switch (m.kind) {
              case 'none': {
                const r = attest(Buffer.from(JSON.stringify(env)), digest);
                const ids = vulns.map((v) => v.VulnerabilityID);
                if (ids.every((id) => typeof id === 'string' && id.trim() !== '')) assert.ok(r.record, JSON.stringify(r.failure));
                return;
              }
              case 'flip-payload':
                return void assert.equal(
                  attest(Buffer.from(JSON.stringify({ ...env, payload: b64(flipBit(payload, m.flip)) })), digest).record,
                  undefined,
                );
              case 'flip-signature': {
                const sig = flipBit(Buffer.from((env['signatures'] as { sig: string }[])[0]!.sig, 'base64'), m.flip);
                return void assert.equal(
                  attest(Buffer.from(JSON.stringify({ ...env, signatures: [{ keyid: '', sig: b64(sig) }] })), digest).record,
                  undefined,
                );
              }
              case 'other-digest': {
                const r = attest(Buffer.from(JSON.stringify(env)), m.digest as Digest);
                if (m.digest !== digest) assert.equal(r.record, undefined);
                return;
              }
              case 'edits-resigned': {
                const edited = applyEdits(statement(digest, vulns), m.edits);
                const r = attest(Buffer.from(JSON.stringify(envelope(Buffer.from(jsonText(edited))))), digest);
                const subjects = (edited as { subject?: unknown } | null)?.subject;
                const names =
                  Array.isArray(subjects) &&
                  subjects.some((s) => (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256 === digest.slice(7));
                if (!names) assert.equal(r.record, undefined, 'a statement that does not name the digest gave a record');
                return;
              }
              case 'attacker':
                return void assert.equal(
                  attest(Buffer.from(JSON.stringify(envelope(payload, attacker.privateKey))), digest).record,
                  undefined,
                );
              case 'envelope-edits': {
                const edited = applyEdits(env, m.edits) as Record<string, unknown> | null;
                const r = attest(Buffer.from(jsonText(edited)), digest);
                const sigs = (edited?.['signatures'] as unknown[] | undefined) ?? [];
                const kept =
                  edited?.['payloadType'] === IN_TOTO &&
                  typeof edited?.['payload'] === 'string' &&
                  Buffer.from(edited['payload'], 'base64').equals(payload) &&
                  Array.isArray(sigs) &&
                  sigs.some((s) => (s as { sig?: unknown } | null)?.sig === (env['signatures'] as { sig: string }[])[0]!.sig);
                if (!kept) assert.equal(r.record, undefined, 'an envelope whose signed content changed gave a record');
                return;
              }
            }
          }),
        },
        {
          name: 'vuln attestation: hostile envelopes never throw and never give a record',
          property: fc.property(hostileBody, anyDigest, (bytes, digest) => void assert.equal(attest(bytes, digest).record, undefined)),
        },
      ],
    };
  },
};
