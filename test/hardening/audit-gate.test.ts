import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { advisoriesOf, evaluateAudit } from '../../scripts/audit-gate.ts';

// The npm audit gate's decisions, on captured `npm audit --omit=dev --json` output (no network):
// samples/npm-audit-report.json (auditReportVersion 2: a critical and a high advisory in lodash, a
// moderate in path-to-regexp, a low in debug, and a package vulnerable only through lodash),
// samples/npm-audit-405.json (what this machine's registry answers: no audit endpoint) and
// samples/npm-audit-enotfound.json (no network).
const sample = (name: string): unknown => JSON.parse(readFileSync(new URL(`./samples/${name}`, import.meta.url), 'utf8'));
const REPORT = sample('npm-audit-report.json');
const TODAY = '2026-11-28';
const exception = (
  advisory: string,
  pkg: string,
  expires = '2027-03-01',
  reason = 'not reachable from trustgate: only used by the CLI demo',
) => ({ advisory, package: pkg, reason, expires });
const ALL = [
  exception('GHSA-35jh-r3h4-6jhm', 'lodash'),
  exception('https://github.com/advisories/GHSA-p6mc-m468-83gw', 'lodash'),
  exception('1101850', 'path-to-regexp'),
];
const gate = (exceptions: unknown[], report: unknown = REPORT, allowUnreachable = false) =>
  evaluateAudit(report, { exceptions }, { today: TODAY, allowUnreachable });

describe('npm audit gate: advisories', () => {
  it('reads every advisory once, by GHSA id, with its package and severity; packages named only through another are not advisories', () => {
    const found = advisoriesOf(REPORT);
    assert.ok('advisories' in found);
    assert.deepEqual(found.advisories.map((a) => `${a.severity} ${a.id} ${a.package}`).sort(), [
      'critical GHSA-p6mc-m468-83gw lodash',
      'high GHSA-35jh-r3h4-6jhm lodash',
      'low GHSA-gxpj-cx7g-858c debug',
      'moderate GHSA-9wv6-86v2-598j path-to-regexp',
    ]);
  });

  it('no exceptions › fails, naming the three advisories of severity moderate or higher (not the low one)', () => {
    const result = gate([]);
    assert.equal(result.ok, false);
    assert.equal(result.failures.length, 3);
    assert.ok(result.failures.every((f) => f.endsWith('(not in audit-exceptions.json)')));
    assert.ok(result.failures.some((f) => f.startsWith('critical GHSA-p6mc-m468-83gw in lodash: Prototype Pollution in lodash')));
    assert.ok(!result.failures.some((f) => f.includes('debug')));
  });

  it('each listed by GHSA id, advisory URL or npm id › passes, each reported as excepted with its reason and expiry', () => {
    const result = gate(ALL);
    assert.deepEqual(result.failures, []);
    assert.equal(result.ok, true);
    assert.equal(result.excepted.length, 3);
    assert.ok(result.excepted.every((e) => e.includes('(excepted until 2027-03-01: not reachable from trustgate')));
  });

  it('one advisory left out › fails on that one only', () => {
    const result = gate(ALL.slice(1));
    assert.deepEqual(
      result.failures.map((f) => f.split(':')[0]),
      ['high GHSA-35jh-r3h4-6jhm in lodash'],
    );
  });

  it('an exception for the right advisory but another package › does not count', () => {
    const result = gate([...ALL.slice(1), exception('GHSA-35jh-r3h4-6jhm', 'some-wrapper')]);
    assert.equal(result.ok, false);
    assert.ok(result.failures.some((f) => f.startsWith('high GHSA-35jh-r3h4-6jhm in lodash')));
  });

  it('an expired exception › fails even though it matches (renew it or fix the dependency)', () => {
    const result = gate([exception('GHSA-35jh-r3h4-6jhm', 'lodash', '2026-11-27'), ...ALL.slice(1)]);
    assert.equal(result.ok, false);
    assert.match(result.failures.join('\n'), /exceptions\[0\] \(GHSA-35jh-r3h4-6jhm in lodash\) expired on 2026-11-27/);
    assert.equal(gate([exception('GHSA-35jh-r3h4-6jhm', 'lodash', TODAY), ...ALL.slice(1)]).ok, true, 'valid through its expiry day');
  });

  it('malformed exceptions › fail, naming the entry and field: no reason, a bad date, an expiry over a year away, no advisory', () => {
    const result = gate([
      { advisory: 'GHSA-35jh-r3h4-6jhm', package: 'lodash', expires: '2027-01-01' },
      exception('GHSA-p6mc-m468-83gw', 'lodash', '01/02/2027'),
      exception('1101850', 'path-to-regexp', '2028-01-01'),
      { package: 'x', reason: 'r', expires: '2027-01-01' },
    ]);
    assert.equal(result.ok, false);
    const text = result.failures.join('\n');
    assert.match(text, /exceptions\[0\]\.reason: required/);
    assert.match(text, /exceptions\[1\]\.expires: required, a date YYYY-MM-DD/);
    assert.match(text, /exceptions\[2\]\.expires: 2028-01-01 is more than 366 days away/);
    assert.match(text, /exceptions\[3\]\.advisory: required/);
    assert.equal(evaluateAudit(REPORT, { list: [] }, { today: TODAY }).failures[0], 'audit-exceptions.json: "exceptions" must be an array');
  });

  it('an exception that matches nothing › passes with a warning to remove it', () => {
    const result = gate([...ALL, exception('GHSA-jf85-cpcp-j695', 'lodash')]);
    assert.equal(result.ok, true);
    assert.deepEqual(result.warnings, ['exception GHSA-jf85-cpcp-j695 (lodash) matches no current advisory: remove it']);
  });

  it('a clean report › passes', () => {
    const result = gate([], { auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: { total: 0 } } });
    assert.deepEqual(result, { ok: true, checked: true, failures: [], warnings: [], excepted: [] });
  });

  it('the audit endpoint unreachable (HTTP 405 from this registry, ENOTFOUND, no JSON) › fails closed with the reason', () => {
    for (const [report, why] of [
      [sample('npm-audit-405.json'), /405 Method Not Allowed/],
      [sample('npm-audit-enotfound.json'), /ENOTFOUND/],
      [null, /no JSON report/],
    ] as const) {
      const result = gate([], report);
      assert.equal(result.ok, false);
      assert.match(result.failures[0]!, /the npm audit endpoint gave no report \(.*\); the gate fails closed/);
      assert.match(result.failures[0]!, why);
    }
    const allowed = gate([], sample('npm-audit-enotfound.json'), true);
    assert.equal(allowed.ok, true, 'AUDIT_GATE_ALLOW_UNREACHABLE turns only this case into a warning');
    assert.equal(allowed.checked, false);
    assert.match(allowed.warnings[0]!, /ENOTFOUND.*AUDIT_GATE_ALLOW_UNREACHABLE is set: dependencies NOT checked/);
  });
});

describe('npm audit gate: the script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-audit-gate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // A stand-in `npm` first on PATH: records its arguments, prints the captured report.
  writeFileSync(join(dir, 'npm'), `#!/bin/sh\necho "$@" > "${join(dir, 'args')}"\ncat "${join(dir, 'report.json')}"\nexit 1\n`);
  chmodSync(join(dir, 'npm'), 0o755);
  const run = (report: unknown, exceptions: unknown[], env: Record<string, string> = {}) => {
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
    writeFileSync(join(dir, 'exceptions.json'), JSON.stringify({ exceptions }));
    return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/audit-gate.ts', '--exceptions', join(dir, 'exceptions.json')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}`, ...env },
    });
  };
  const farFuture = (e: ReturnType<typeof exception>) => ({
    ...e,
    expires: new Date(Date.now() + 300 * 86_400_000).toISOString().slice(0, 10),
  });

  it('runs `npm audit --omit=dev --json` and exits 1 listing what is not excepted, 0 once all are', () => {
    const failed = run(REPORT, []);
    assert.equal(failed.status, 1, failed.stderr);
    assert.equal(readFileSync(join(dir, 'args'), 'utf8').trim(), 'audit --omit=dev --json');
    assert.match(failed.stderr, /npm audit gate: FAILED/);
    assert.match(failed.stderr, /- critical GHSA-p6mc-m468-83gw in lodash/);
    const passed = run(REPORT, ALL.map(farFuture));
    assert.equal(passed.status, 0, passed.stderr);
    assert.match(passed.stderr, /npm audit gate: passed/);
  });

  it('an unreachable endpoint › exit 1 with a clear message; 0 with AUDIT_GATE_ALLOW_UNREACHABLE=1', () => {
    const failed = run(sample('npm-audit-405.json'), []);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /the npm audit endpoint gave no report .*405 Method Not Allowed.*fails closed/);
    const allowed = run(sample('npm-audit-405.json'), [], { AUDIT_GATE_ALLOW_UNREACHABLE: '1' });
    assert.equal(allowed.status, 0);
    assert.match(allowed.stderr, /NOT CHECKED/);
    assert.doesNotMatch(allowed.stderr, /passed/);
  });

  it('the checked-in audit-exceptions.json is well formed', () => {
    const file = JSON.parse(readFileSync('audit-exceptions.json', 'utf8')) as unknown;
    const result = evaluateAudit({ auditReportVersion: 2, vulnerabilities: {} }, file, { today: new Date().toISOString().slice(0, 10) });
    assert.deepEqual(result.failures, []);
  });
});
