import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createMetrics } from '../../src/metrics/metrics.ts';

// TrustgateSigstoreRootStale (config/prometheus/alerts.yml) on scripted series, with promtool as
// test/deploy runs it for the other alerts, and against the metric names trustgate exports.

const work = mkdtempSync(join(tmpdir(), 'tg-tuf-alert-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Parsed YAML, checked field by field below. */
type Json = any;
const rules: Json = parse(readFileSync('config/prometheus/alerts.yml', 'utf8'));
const rule: Json = rules.groups.flatMap((g: Json) => g.rules).find((r: Json) => r.alert === 'TrustgateSigstoreRootStale');

function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('promtool', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ code: -1, out: 'promtool not found: run bash scripts/ensure-packages.sh (Debian package "prometheus" ships promtool)' });
      } else resolve({ code: error === null ? 0 : Number(error.code ?? 1), out: `${stdout}${stderr}` });
    });
  });
}

const series = (name: string, instance: string, values: string) => ({
  series: `${name}{job="trustgate",instance="${instance}",root="sigstore-public"}`,
  values,
});

describe('the TrustgateSigstoreRootStale alert', () => {
  it('is a warning with a summary, description and runbook, after 15 minutes', () => {
    assert.ok(rule !== undefined, 'TrustgateSigstoreRootStale is in alerts.yml');
    assert.equal(rule.for, '15m');
    assert.equal(rule.labels.severity, 'warning');
    for (const key of ['summary', 'description', 'runbook']) assert.ok(rule.annotations[key], key);
  });

  it('uses the metric names trustgate exports with trust.sigstoreTuf configured', async () => {
    const metrics = createMetrics({
      trust: () => ({ version: 0, active: 0, revoked: 0 }),
      policyHash: () => 'h',
      scanQueuePending: async () => 0,
      redisUp: () => undefined,
      sigstoreRoot: () => ({ root: 'sigstore-public', ageSeconds: 1, intervalSeconds: 21_600 }),
    });
    const exported = await metrics.registry.metrics();
    const used = new Set([rule.expr, ...Object.values(rule.annotations)].flatMap((t) => String(t).match(/\btrustgate_[a-z0-9_]+/g) ?? []));
    assert.deepEqual([...used].sort(), [
      'trustgate_sigstore_root_age_seconds',
      'trustgate_sigstore_root_refresh_interval_seconds',
      'trustgate_sigstore_root_refresh_total',
    ]);
    for (const name of used) assert.match(exported, new RegExp(`^# TYPE ${name} `, 'm'), name);
  });

  it('fires when a replica has gone two intervals without a good refresh for 15 minutes, and not otherwise', async () => {
    // Minute by minute. Interval 30 min: stale past 60 min. Replica a never refreshes again (its age
    // grows a minute a minute); replica b refreshes every 30 minutes (its age falls back to 0).
    const sawtooth = Array.from({ length: 4 }, () => '0+60x29').join(' ');
    const tests = {
      rule_files: ['alerts.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            series('trustgate_sigstore_root_age_seconds', 'a', '0+60x120'),
            series('trustgate_sigstore_root_refresh_interval_seconds', 'a', '1800x120'),
            series('trustgate_sigstore_root_age_seconds', 'b', sawtooth),
            series('trustgate_sigstore_root_refresh_interval_seconds', 'b', '1800x120'),
          ],
          alert_rule_test: [
            { alertname: 'TrustgateSigstoreRootStale', eval_time: '60m', exp_alerts: [] },
            { alertname: 'TrustgateSigstoreRootStale', eval_time: '75m', exp_alerts: [] },
            {
              alertname: 'TrustgateSigstoreRootStale',
              eval_time: '77m',
              exp_alerts: [{ exp_labels: { job: 'trustgate', instance: 'a', root: 'sigstore-public', severity: 'warning' } }],
            },
          ],
        },
      ],
    };
    // promtool compares annotations exactly, so the expression is tested without them (promtool
    // check rules, in test/deploy, expands every annotation template).
    const { annotations: _, ...bare } = rule;
    writeFileSync(join(work, 'alerts.yml'), stringify({ groups: [{ name: 'tuf', rules: [bare] }] }));
    writeFileSync(join(work, 'alerts.test.yml'), stringify(tests));
    const { code, out } = await promtool('test', 'rules', join(work, 'alerts.test.yml'));
    assert.equal(code, 0, out);
  });

  it('promtool check rules accepts alerts.yml, annotations included', async () => {
    const { code, out } = await promtool('check', 'rules', 'config/prometheus/alerts.yml');
    assert.equal(code, 0, out);
  });
});
