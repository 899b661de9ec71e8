// evaluateScan: every state and reason, severity boundaries, unfixed, exemptions and notAfter. Frozen clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Digest } from '../../src/oci/reference.ts';
import { evaluateScan } from '../../src/scan/evaluate.ts';
import { parseTrivyReport } from '../../src/scan/trivy-report.ts';
import type { Exemption, Finding, ScanRecord, ScanRequirement, Severity } from '../../src/scan/types.ts';
import { CONFIG_DIGEST, DAY, GOLDEN, HOUR, MANIFEST_DIGEST } from './fixtures.ts';

const NOW = Date.parse('2024-03-10T12:00:00Z');
const NAME = 'registry.example/team/app';
const DIGEST = `sha256:634a8f35b5f1${'0'.repeat(52)}` as Digest;
const RULE: ScanRequirement = {
  required: true,
  maxSeverity: 'MEDIUM',
  blockUnknown: false,
  maxAgeMs: 7 * DAY,
  ignoreUnfixed: false,
  allow: [],
};
const rule = (extra: Partial<ScanRequirement> = {}): ScanRequirement => ({ ...RULE, ...extra });

const finding = (id: string, severity: Severity, fixedIn = '1.1', pkg = 'openssl'): Finding => ({
  id,
  severity,
  pkg,
  installed: '1.0',
  fixedIn,
});
function record(findings: Finding[], finishedAt = NOW - DAY): ScanRecord {
  const counts = { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return { digest: DIGEST, scanner: 'trivy 0.50.1', finishedAt, source: 'report', findings, counts };
}
const judge = (requirement: ScanRequirement | undefined, rec: ScanRecord | undefined, pending = false, now = NOW) =>
  evaluateScan(requirement, rec, pending, NAME, now, DIGEST);
const codes = (e: ReturnType<typeof judge>): string[] => e.reasons.map((r) => r.code);

describe('no scan on record', () => {
  test('required › unscanned, reason unscanned naming the digest', () => {
    assert.deepEqual(judge(RULE, undefined), {
      state: 'unscanned',
      notAfter: undefined,
      reasons: [{ code: 'unscanned', message: `no vulnerability scan on record for ${NAME}@sha256:634a8f35b5f1…; it has been queued` }],
    });
  });
  test('without the optional digest the message names the image', () => {
    assert.equal(
      evaluateScan(RULE, undefined, false, NAME, NOW).reasons[0]!.message,
      `no vulnerability scan on record for ${NAME}; it has been queued`,
    );
  });
  test('required and a scan is running › pending, reason scan_pending', () => {
    const e = judge(RULE, undefined, true);
    assert.equal(e.state, 'pending');
    assert.deepEqual(codes(e), ['scan_pending']);
    assert.equal(e.reasons[0]!.message, `the vulnerability scan of ${NAME}@sha256:634a8f35b5f1… is still running; no result on record yet`);
  });
  test('not required, or no requirement › the same state, never a reason', () => {
    assert.deepEqual(judge(rule({ required: false }), undefined), { state: 'unscanned', reasons: [], notAfter: undefined });
    assert.deepEqual(judge(undefined, undefined, true), { state: 'pending', reasons: [], notAfter: undefined });
  });
});

describe('stale scans', () => {
  test('9 days old under a 7-day rule › stale, reason scan_stale with age and limit', () => {
    const e = judge(RULE, record([], NOW - 9 * DAY));
    assert.equal(e.state, 'stale');
    assert.deepEqual(e.reasons, [
      { code: 'scan_stale', message: 'vulnerability scan is 9d old (finished 2024-03-01T12:00:00Z); rule allows 7d' },
    ]);
    assert.equal(e.notAfter, undefined);
  });
  test('exactly maxAge old › stale; a millisecond younger › passed until that moment', () => {
    assert.equal(judge(RULE, record([], NOW - 7 * DAY)).state, 'stale');
    assert.deepEqual(judge(RULE, record([], NOW - 7 * DAY + 1)), { state: 'passed', reasons: [], notAfter: NOW + 1 });
  });
  test('a rescan in progress is mentioned; a stale failing scan reports staleness', () => {
    assert.match(
      judge(RULE, record([finding('CVE-1', 'CRITICAL')], NOW - 8 * DAY - 6 * HOUR), true).reasons[0]!.message,
      /is 8d6h old .*; rule allows 7d; a new scan is pending$/,
    );
  });
  test('not required › stale state, no reason', () => {
    assert.deepEqual(judge(rule({ required: false }), record([], NOW - 9 * DAY)), { state: 'stale', reasons: [], notAfter: undefined });
  });
});

describe('severity', () => {
  const cases: Array<[Severity, Severity, boolean]> = [
    ['MEDIUM', 'MEDIUM', true],
    ['MEDIUM', 'HIGH', false],
    ['MEDIUM', 'LOW', true],
    ['LOW', 'LOW', true],
    ['LOW', 'MEDIUM', false],
    ['HIGH', 'HIGH', true],
    ['HIGH', 'CRITICAL', false],
    ['CRITICAL', 'CRITICAL', true],
    ['UNKNOWN', 'LOW', false],
  ];
  for (const [max, severity, passes] of cases) {
    test(`maxSeverity ${max}, a ${severity} finding › ${passes ? 'passed' : 'failed'}`, () => {
      const e = judge(rule({ maxSeverity: max }), record([finding('CVE-1', severity)]));
      assert.equal(e.state, passes ? 'passed' : 'failed');
      assert.deepEqual(codes(e), passes ? [] : ['vulnerable']);
    });
  }
  test('UNKNOWN blocks only with blockUnknown, whatever maxSeverity', () => {
    assert.equal(judge(rule({ maxSeverity: 'LOW' }), record([finding('CVE-1', 'UNKNOWN')])).state, 'passed');
    const e = judge(rule({ maxSeverity: 'CRITICAL', blockUnknown: true }), record([finding('CVE-1', 'UNKNOWN')]));
    assert.deepEqual(e.reasons, [{ code: 'vulnerable', message: '1 of UNKNOWN severity, which the rule blocks: CVE-1' }]);
  });
  test('the message counts by severity, most severe first, and names up to five ids', () => {
    const e = judge(
      RULE,
      record([
        finding('CVE-2019-1551', 'HIGH'),
        finding('CVE-2019-1549', 'CRITICAL'),
        finding('CVE-2019-1549', 'CRITICAL', '1.1', 'libssl'),
        finding('CVE-0', 'LOW'),
      ]),
    );
    assert.equal(e.state, 'failed');
    assert.equal(e.notAfter, undefined);
    assert.deepEqual(e.reasons, [
      { code: 'vulnerable', message: '2 CRITICAL, 1 HIGH above the allowed MEDIUM: CVE-2019-1549, CVE-2019-1551' },
    ]);
  });
  test('more than five ids › the first five and an ellipsis; UNKNOWN listed after known severities', () => {
    const many = ['A', 'B', 'C', 'D', 'E', 'F'].map((id) => finding(`CVE-${id}`, 'HIGH'));
    const e = judge(rule({ blockUnknown: true }), record([finding('CVE-U', 'UNKNOWN'), ...many]));
    assert.equal(
      e.reasons[0]!.message,
      '6 HIGH above the allowed MEDIUM; 1 of UNKNOWN severity, which the rule blocks: CVE-A, CVE-B, CVE-C, CVE-D, CVE-E, …',
    );
  });
  test('trivy-1 golden report: 4 MEDIUM pass at MEDIUM and fail at LOW', () => {
    const golden = parseTrivyReport(
      GOLDEN,
      { digest: MANIFEST_DIGEST, configDigest: CONFIG_DIGEST, canonicalName: NAME },
      Date.parse('2021-08-26T00:00:00Z'),
      { maxSkewMs: 0, maxBytes: 1 << 20 },
    );
    const now = golden.finishedAt + DAY;
    assert.equal(evaluateScan(RULE, golden, false, NAME, now).state, 'passed');
    assert.deepEqual(evaluateScan(rule({ maxSeverity: 'LOW' }), golden, false, NAME, now).reasons, [
      { code: 'vulnerable', message: '4 MEDIUM above the allowed LOW: CVE-2019-1549, CVE-2019-1551' },
    ]);
  });
  test('not required › failed state, no reason; no requirement › passed', () => {
    assert.deepEqual(judge(rule({ required: false }), record([finding('CVE-1', 'CRITICAL')])), {
      state: 'failed',
      reasons: [],
      notAfter: undefined,
    });
    assert.deepEqual(judge(undefined, record([finding('CVE-1', 'CRITICAL')], NOW - 100 * DAY)), {
      state: 'passed',
      reasons: [],
      notAfter: undefined,
    });
  });
});

describe('ignoreUnfixed', () => {
  test('an unfixed finding does not block; a fixed one still does', () => {
    const unfixed = record([finding('CVE-1', 'CRITICAL', '')]);
    assert.equal(judge(RULE, unfixed).state, 'failed');
    assert.deepEqual(judge(rule({ ignoreUnfixed: true }), unfixed), { state: 'passed', reasons: [], notAfter: NOW + 6 * DAY });
    assert.equal(
      judge(rule({ ignoreUnfixed: true }), record([finding('CVE-1', 'CRITICAL', ''), finding('CVE-2', 'HIGH')])).reasons[0]!.message,
      '1 HIGH above the allowed MEDIUM: CVE-2',
    );
  });
});

describe('exemptions', () => {
  const EXPIRES = NOW + 2 * DAY;
  const allow = (...exemptions: Exemption[]): ScanRequirement => rule({ allow: exemptions });
  const critical = record([finding('CVE-2021-36159', 'CRITICAL')]);
  test('by id, case-insensitively › passed, notAfter = the exemption expiry (before the stale moment)', () => {
    assert.deepEqual(judge(allow({ id: 'cve-2021-36159', expires: EXPIRES }), critical), {
      state: 'passed',
      reasons: [],
      notAfter: EXPIRES,
    });
  });
  test('another id › still vulnerable', () => {
    assert.deepEqual(codes(judge(allow({ id: 'CVE-2021-36160', expires: EXPIRES }), critical)), ['vulnerable']);
  });
  test('repository pattern: matching image › exempt; other image › not', () => {
    assert.equal(
      judge(allow({ id: 'CVE-2021-36159', repository: 'registry.example/team/**', expires: EXPIRES }), critical).state,
      'passed',
    );
    assert.equal(
      judge(allow({ id: 'CVE-2021-36159', repository: 'registry.example/other/*', expires: EXPIRES }), critical).state,
      'failed',
    );
  });
  test('just before expiry › exempt until then; at expiry › vulnerable', () => {
    const requirement = allow({ id: 'CVE-2021-36159', expires: EXPIRES });
    assert.deepEqual(judge(requirement, critical, false, EXPIRES - 1), { state: 'passed', reasons: [], notAfter: EXPIRES });
    assert.equal(judge(requirement, critical, false, EXPIRES).state, 'failed');
  });
  test('notAfter = min(stale moment, expiries relied on)', () => {
    const requirement = allow({ id: 'CVE-1', expires: NOW + 30 * DAY }, { id: 'CVE-2', expires: NOW + 3 * DAY });
    // The scan goes stale (in 6 days) before CVE-1's exemption ends, but CVE-2's ends sooner still.
    assert.equal(judge(requirement, record([finding('CVE-1', 'HIGH'), finding('CVE-2', 'HIGH')])).notAfter, NOW + 3 * DAY);
    assert.equal(judge(requirement, record([finding('CVE-1', 'HIGH')])).notAfter, NOW + 6 * DAY);
    // An exemption for a finding that does not block (LOW, or unfixed under ignoreUnfixed) is not relied on.
    assert.equal(judge(requirement, record([finding('CVE-2', 'LOW')])).notAfter, NOW + 6 * DAY);
    assert.equal(judge({ ...requirement, ignoreUnfixed: true }, record([finding('CVE-2', 'HIGH', '')])).notAfter, NOW + 6 * DAY);
  });
  test('two exemptions for one finding › it holds until the later one expires', () => {
    const requirement = allow(
      { id: 'CVE-1', expires: NOW + HOUR },
      { id: 'CVE-1', repository: 'registry.example/**', expires: NOW + 2 * DAY },
    );
    assert.equal(judge(requirement, record([finding('CVE-1', 'CRITICAL')])).notAfter, NOW + 2 * DAY);
  });
  test('an exemption with an invalid repository pattern matches nothing', () => {
    assert.equal(judge(allow({ id: 'CVE-2021-36159', repository: 'bad pattern', expires: EXPIRES }), critical).state, 'failed');
  });
});
