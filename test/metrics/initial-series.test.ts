// The series a fresh registry exports before anything has happened: the alerts and the dashboard
// need them at 0 from the first scrape (rate() and increase() miss a series' first value, and a
// ratio over a missing series is no data rather than 0).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics, UPSTREAM_ERROR_KINDS, type KnownLabels, type MetricSources } from '../../src/metrics/metrics.ts';
import { routeTemplate } from '../../src/server/route-template.ts';

const sources: MetricSources = {
  trust: () => ({ version: 1, active: 1, revoked: 0 }),
  policyHash: () => 'h',
  scanQueuePending: async () => 0,
  redisUp: () => undefined,
};

/** The text exposition as `name{labels}` → value. */
async function exported(known?: KnownLabels): Promise<Map<string, number>> {
  const text = await createMetrics(sources, known).registry.metrics();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+(?:\{[^}]*\})?) ([0-9.eE+-]+|NaN)$/.exec(line);
    if (match !== null) values.set(match[1]!, Number(match[2]));
  }
  return values;
}
const named = (values: Map<string, number>, name: string): string[] => [...values.keys()].filter((series) => series.startsWith(`${name}{`));

const UPSTREAMS = ['dockerhub', 'ghcr'];

describe('a fresh metrics registry', () => {
  it('exports trustgate_upstream_errors_total at 0 for every configured upstream and every kind, and nothing else', async () => {
    const values = await exported({ upstreams: UPSTREAMS, sharedVerdictCache: false });
    const kinds = ['unreachable', 'timeout', 'bad_response', 'rate_limited', 'redirect_refused'];
    const expected = UPSTREAMS.flatMap((upstream) =>
      kinds.map((kind) => `trustgate_upstream_errors_total{upstream="${upstream}",kind="${kind}"}`),
    );
    for (const series of expected) assert.equal(values.get(series), 0, series);
    assert.deepEqual(named(values, 'trustgate_upstream_errors_total').sort(), expected.sort());
    assert.deepEqual([...UPSTREAM_ERROR_KINDS].sort(), kinds.sort(), 'the exported kinds are the whole closed set');
  });

  it('exports the upstream request counts, decisions per outcome and blob bytes at 0 for every configured upstream', async () => {
    const values = await exported({ upstreams: UPSTREAMS, sharedVerdictCache: false });
    for (const upstream of UPSTREAMS) {
      for (const op of ['manifest', 'blob', 'tags', 'referrers', 'signature']) {
        assert.equal(
          values.get(`trustgate_upstream_request_duration_seconds_count{upstream="${upstream}",op="${op}"}`),
          0,
          `${upstream} ${op}`,
        );
        assert.equal(values.get(`trustgate_upstream_request_duration_seconds_bucket{le="+Inf",upstream="${upstream}",op="${op}"}`), 0);
      }
      for (const outcome of ['allow', 'deny', 'warn']) {
        assert.equal(values.get(`trustgate_decisions_total{outcome="${outcome}",upstream="${upstream}"}`), 0, `${upstream} ${outcome}`);
      }
      assert.equal(values.get(`trustgate_blob_bytes_total{upstream="${upstream}"}`), 0);
    }
    assert.equal(named(values, 'trustgate_decisions_total').length, UPSTREAMS.length * 3, 'no reason or rule is made up');
  });

  it('exports verification and manifest-pull latency counts, and verdict cache lookups of each layer it has, at 0', async () => {
    const values = await exported({ upstreams: UPSTREAMS, sharedVerdictCache: false });
    for (const result of ['allow', 'deny', 'warn']) {
      assert.equal(values.get(`trustgate_verification_duration_seconds_count{result="${result}"}`), 0, result);
    }
    const route = routeTemplate('/v2/library/nginx/manifests/latest');
    for (const method of ['GET', 'HEAD']) {
      assert.equal(values.get(`trustgate_request_duration_seconds_count{route="${route}",method="${method}"}`), 0, method);
    }
    assert.deepEqual(named(values, 'trustgate_verdict_cache_lookups_total').sort(), [
      'trustgate_verdict_cache_lookups_total{layer="memory",result="hit"}',
      'trustgate_verdict_cache_lookups_total{layer="memory",result="miss"}',
    ]);
    const shared = await exported({ upstreams: UPSTREAMS, sharedVerdictCache: true });
    for (const series of ['{layer="redis",result="hit"}', '{layer="redis",result="miss"}']) {
      assert.equal(shared.get(`trustgate_verdict_cache_lookups_total${series}`), 0, series);
    }
  });

  it('counts the first event of a zeroed series from 0', async () => {
    const metrics = createMetrics(sources, { upstreams: UPSTREAMS, sharedVerdictCache: false });
    metrics.upstreamError('ghcr', 'timeout');
    const text = await metrics.registry.metrics();
    assert.match(text, /^trustgate_upstream_errors_total\{upstream="ghcr",kind="timeout"\} 1$/m);
    assert.match(text, /^trustgate_upstream_errors_total\{upstream="dockerhub",kind="timeout"\} 0$/m);
  });

  it('without known labels (the default) exports no per-upstream series', async () => {
    const values = await exported();
    assert.deepEqual(named(values, 'trustgate_upstream_errors_total'), []);
    assert.deepEqual(named(values, 'trustgate_decisions_total'), []);
  });
});
