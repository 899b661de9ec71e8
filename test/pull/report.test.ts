// The decision reporter's accounting: every decision logged and counted in trustgate_decisions_total,
// and trustgate_denied_pulls_total counting a client's repeats of one denied name and digest within a
// second once. Real metrics (prom-client registry), an injected clock; the exchange is plain data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowDecision, denyDecision, type Decision } from '../../src/decision/decision.ts';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.ts';
import { parseDigest, parseReference, type Digest } from '../../src/oci/reference.ts';
import type { PolicyRuleName } from '../../src/decision/decision.ts';
import {
  createDecisionReporter,
  createRepeatWindow,
  DENIED_PULL_WINDOW_KEYS,
  DENIED_PULL_WINDOW_MS,
  type DecisionReport,
  type RepeatWindow,
} from '../../src/pull/report.ts';
import type { Exchange } from '../../src/server/exchange.ts';
import { recordingLogger } from '../support/helpers.ts';

const DIGEST = parseDigest(`sha256:${'a'.repeat(64)}`);
const OTHER_DIGEST = parseDigest(`sha256:${'b'.repeat(64)}`);
const RULE = 'signed' as PolicyRuleName;
const unsigned = (digest: Digest): Decision => denyDecision(RULE, [{ code: 'unsigned', message: 'no signature found' }], digest);

function setup(window?: RepeatWindow) {
  let clock = 1_000_000;
  const logger = recordingLogger();
  const metrics = createMetrics({
    trust: () => ({ version: 0, active: 0, revoked: 0 }),
    policyHash: () => 'h',
    scanQueuePending: async () => 0,
    redisUp: () => undefined,
  });
  const reporter = createDecisionReporter({
    logger,
    metrics,
    now: () => clock,
    ...(window === undefined ? {} : { deniedPullWindow: window }),
  });
  /** One request: method, client address, pull-auth subject. */
  const exchange = (method: 'GET' | 'HEAD', address = '10.0.0.1', subject?: string): Exchange =>
    ({
      method,
      isHead: method === 'HEAD',
      requestId: `req-${logger.records.length}`,
      client: subject === undefined ? undefined : { subject },
      req: { socket: { remoteAddress: address } },
    }) as unknown as Exchange;
  const report = (ex: Exchange, over: Partial<DecisionReport> = {}): void =>
    reporter.report(ex, {
      decision: unsigned(DIGEST),
      route: 'manifest',
      name: 'registry.example/team/app',
      upstream: 'up',
      reference: parseReference('v1'),
      digest: DIGEST,
      started: performance.now(),
      ...over,
    });
  return {
    logger,
    report,
    exchange,
    advance: (ms: number) => void (clock += ms),
    value: async (name: string, labels: Record<string, string>) => valueOf(metrics, name, labels),
  };
}

async function valueOf(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric !== undefined, name);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

const DENIED = { reason: 'unsigned', upstream: 'up' };
const DECIDED = { outcome: 'deny', reason: 'unsigned', rule: 'signed', upstream: 'up' };

describe('trustgate_denied_pulls_total: one per denied pull a client makes', () => {
  it('HEAD then GET of one denied digest within a second › one denied pull, two decisions, two log records', async () => {
    const t = setup();
    t.report(t.exchange('HEAD'));
    t.advance(DENIED_PULL_WINDOW_MS - 1);
    t.report(t.exchange('GET'));
    assert.equal(await t.value('trustgate_denied_pulls_total', DENIED), 1);
    assert.equal(await t.value('trustgate_decisions_total', DECIDED), 2);
    const records = t.logger.records.filter((r) => (r.record as { event?: string }).event === 'decision');
    assert.deepEqual(
      records.map((r) => (r.record as { method: string }).method),
      ['HEAD', 'GET'],
    );
  });

  it('the same pull a second later › counted again', async () => {
    const t = setup();
    t.report(t.exchange('HEAD'));
    t.advance(DENIED_PULL_WINDOW_MS);
    t.report(t.exchange('GET'));
    assert.equal(await t.value('trustgate_denied_pulls_total', DENIED), 2);
  });

  it('the window runs from the pull that was counted: repeats every 600 ms count at 0, 1200 and 2400 ms', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) {
      t.report(t.exchange(i % 2 === 0 ? 'HEAD' : 'GET'));
      t.advance(600);
    }
    assert.equal(await t.value('trustgate_denied_pulls_total', DENIED), 3);
    assert.equal(await t.value('trustgate_decisions_total', DECIDED), 5);
  });

  it('another address, another pull-auth subject, another digest or another name › each its own pull', async () => {
    const t = setup();
    t.report(t.exchange('HEAD', '10.0.0.1'));
    t.report(t.exchange('GET', '10.0.0.2'));
    t.report(t.exchange('GET', '10.0.0.1', 'robot$ci'));
    t.report(t.exchange('GET', '10.0.0.1', 'robot$deploy'));
    t.report(t.exchange('GET', '10.0.0.1'), { decision: unsigned(OTHER_DIGEST), digest: OTHER_DIGEST });
    t.report(t.exchange('GET', '10.0.0.1'), { name: 'registry.example/team/other' });
    assert.equal(await t.value('trustgate_denied_pulls_total', DENIED), 6);
    // and each of them repeated at once is not a new pull
    t.report(t.exchange('GET', '10.0.0.2'));
    t.report(t.exchange('HEAD', '10.0.0.1', 'robot$ci'));
    assert.equal(await t.value('trustgate_denied_pulls_total', DENIED), 6);
    assert.equal(await t.value('trustgate_decisions_total', DECIDED), 8);
  });

  it('a refusal before the manifest was fetched (no digest) › keyed by the reference', async () => {
    const t = setup();
    const source = denyDecision('source-allowlist', [{ code: 'source_not_allowed', message: 'not on the allowlist' }]);
    const refused = { decision: source, digest: undefined };
    t.report(t.exchange('HEAD'), refused);
    t.report(t.exchange('GET'), refused);
    t.report(t.exchange('GET'), { ...refused, reference: parseReference('v2') });
    assert.equal(await t.value('trustgate_denied_pulls_total', { reason: 'source_not_allowed', upstream: 'up' }), 2);
    assert.equal(await t.value('trustgate_decisions_total', { reason: 'source_not_allowed', rule: 'source-allowlist' }), 3);
  });

  it('allows, warnings and blob refusals › never a denied pull', async () => {
    const t = setup();
    t.report(t.exchange('GET'), { decision: allowDecision(RULE, DIGEST) });
    t.report(t.exchange('GET'), {
      decision: { ...unsigned(DIGEST), outcome: 'warn' },
    });
    t.report(t.exchange('HEAD'), {
      route: 'blob',
      decision: denyDecision('blob-gate', [{ code: 'blob_not_referenced', message: 'no allowed manifest names it' }], DIGEST),
    });
    assert.equal(await t.value('trustgate_denied_pulls_total', {}), 0);
    assert.equal(await t.value('trustgate_decisions_total', {}), 2); // the blob refusal is logged, not counted
    assert.equal(t.logger.records.length, 3);
  });

  it('a flood of distinct denied pulls › every one counted, the window never holds more than its cap', async () => {
    const window = createRepeatWindow(DENIED_PULL_WINDOW_MS, 100);
    const t = setup(window);
    for (let i = 0; i < 1000; i++) t.report(t.exchange('GET', `10.0.${i >> 8}.${i & 255}`));
    assert.equal(window.size, 100);
    assert.equal(await t.value('trustgate_denied_pulls_total', DENIED), 1000);
    // past the window every key has expired: the next pull empties the window down to itself
    t.advance(DENIED_PULL_WINDOW_MS);
    t.report(t.exchange('GET', '10.9.9.9'));
    assert.equal(window.size, 1);
  });

  it('the default window › one second, at most DENIED_PULL_WINDOW_KEYS keys', () => {
    const window = createRepeatWindow();
    for (let i = 0; i < DENIED_PULL_WINDOW_KEYS + 500; i++) assert.equal(window.first(`key-${i}`, 0), true);
    assert.equal(window.size, DENIED_PULL_WINDOW_KEYS);
    assert.equal(window.first(`key-${DENIED_PULL_WINDOW_KEYS + 499}`, 999), false);
    assert.equal(window.first(`key-${DENIED_PULL_WINDOW_KEYS + 499}`, 1000), true);
  });
});
