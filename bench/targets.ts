// The performance targets of issues #7 ("Targets") and #15 (the blob path, the
// blob cache, cold start), each compared with the figure this run measured.
// Benchmark figures, not timed tests: nothing fails when a target is missed,
// the report says so.
import { spreadOf } from './summary.ts';
import type { ColdSummary, HerdSummary, LoadSummary, ScenarioSummary, StartSummary } from './summary.ts';
import type { HerdShare } from './types.ts';

export type Verdict = 'met' | 'not met' | 'not measured';

export interface TargetCheck {
  /** The issue that set the target: "#7" or "#15". */
  issue: string;
  measure: string;
  target: string;
  measured: string;
  verdict: Verdict;
  /** A second, softer goal ("aiming at 0.9× direct"), when the target has one. */
  aim?: { goal: string; verdict: Verdict };
}

/** RSS growth allowed while a 1 GiB blob streams, MB. */
export const RSS_GROWTH_LIMIT_MB = 50;
/** Cold verification: p50 allowed beyond the upstream round trips, ms. */
export const COLD_BEYOND_UPSTREAM_MS = 10;
/** #15: trustgate's blob throughput per round may differ from the median round by this share at most. */
export const BLOB_SPREAD_LIMIT = 0.15;
/** #15: the first blob GETs after start may take this many times the steady ones (mean over mean). */
export const COLD_START_RATIO_LIMIT = 2;
/** #15: a blob through the cached trustgate, at least this share of direct (GiB/s). */
export const CACHED_BLOB_MIN = 0.9;

const x = (n: number | null): string => (n === null ? '-' : `${n.toFixed(2)}×`);
const verdict = (ok: boolean | null): Verdict => (ok === null ? 'not measured' : ok ? 'met' : 'not met');

function find<K extends ScenarioSummary['kind']>(
  summaries: readonly ScenarioSummary[],
  name: string,
  kind: K,
): Extract<ScenarioSummary, { kind: K }> | undefined {
  const found = summaries.find((s) => s.scenario === name);
  return found?.kind === kind ? (found as Extract<ScenarioSummary, { kind: K }>) : undefined;
}

/** A check before its issue is attached. */
type Check = Omit<TargetCheck, 'issue'>;

const unmeasured = (measure: string, target: string, scenario: string): Check => ({
  measure,
  target,
  measured: `- (${scenario} not run)`,
  verdict: 'not measured',
});

function ratioTarget(
  measure: string,
  target: string,
  s: LoadSummary | undefined,
  scenario: string,
  against: 'nginx' | 'direct',
  min: number,
): Check {
  if (s === undefined) return unmeasured(measure, target, scenario);
  // Blobs by bytes per second (the same ratio as req/s for a fixed-size blob).
  const r = s.byteRatios ?? s.ratios;
  const value = against === 'nginx' ? r.trustgateToNginx : r.trustgateToDirect;
  const unit = s.byteRatios === null ? '' : ', GiB/s';
  return {
    measure,
    target,
    measured: `${x(value)} ${against} (${scenario}${unit})`,
    verdict: verdict(value === null ? null : value >= min),
  };
}

/** Every part must be measured and met; the measured figures are listed side by side. */
function allOf(measure: string, target: string, parts: readonly Check[]): Check {
  const verdicts = parts.map((p) => p.verdict);
  return {
    measure,
    target,
    measured: parts.map((p) => p.measured).join('; '),
    verdict: verdicts.includes('not measured') ? 'not measured' : verdicts.every((v) => v === 'met') ? 'met' : 'not met',
  };
}

/** #15: trustgate's blob throughput per round within ±15% of its median round, on every blob row that ran. */
function spreadTarget(summaries: readonly ScenarioSummary[]): Check {
  const measure = 'run-to-run spread of blob throughput';
  const target = `trustgate within ±${BLOB_SPREAD_LIMIT * 100}% of the median round`;
  const blobs = summaries.filter((s): s is LoadSummary => s.kind === 'load' && s.byteRatios !== null);
  if (blobs.length === 0) return unmeasured(measure, target, 'no blob scenario');
  const rounds = blobs[0]!.rounds.length;
  if (rounds < 2) return { measure, target, measured: `- (${rounds} round: needs --rounds 2 or more)`, verdict: 'not measured' };
  const spreads = blobs.map((s) => ({
    scenario: s.scenario,
    spread: spreadOf(s.rounds.flatMap((r) => (r.trustgate.requestsPerSec === null ? [] : [r.trustgate.requestsPerSec]))),
  }));
  const worst = Math.max(...spreads.map((s) => s.spread?.spread ?? Infinity));
  return {
    measure,
    target,
    measured: `${spreads.map((s) => `${s.scenario} ±${s.spread === undefined ? '-' : (s.spread.spread * 100).toFixed(0)}%`).join(', ')} (${rounds} rounds)`,
    verdict: verdict(worst <= BLOB_SPREAD_LIMIT),
  };
}

const ms = (n: number | null): string => (n === null ? '-' : `${n.toFixed(1)} ms`);

/** #15: the fresh process's first blob GETs, mean over the steady mean, median over rounds. */
function coldStartTarget(s: StartSummary | undefined): Check {
  const measure = 'first 10 blobs after start';
  const target = `mean ≤ ${COLD_START_RATIO_LIMIT}× the steady mean`;
  if (s === undefined) return unmeasured(measure, target, 'cold-start');
  const m = s.median;
  const errors = m.errors.first + m.errors.steady;
  return {
    measure,
    target,
    measured:
      `${x(m.meanRatio)} (first ${ms(m.firstMeanMs)}, steady ${ms(m.steadyMeanMs)}; medians over ${s.rounds.length} round(s))` +
      (errors > 0 ? `; ${m.errors.first} / ${m.errors.steady} failed GETs` : ''),
    verdict: verdict(m.meanRatio === null ? null : m.meanRatio <= COLD_START_RATIO_LIMIT && errors === 0),
  };
}

/** #15: the trustgate RSS growth of one big-blob row, judged alone. */
function growthOf(s: LoadSummary | undefined, scenario: string, label: string): Check {
  const target = `< ${RSS_GROWTH_LIMIT_MB} MB`;
  if (s === undefined || s.rssGrowthMb === null) return unmeasured(label, target, scenario);
  return {
    measure: label,
    target,
    measured: `${label} ${s.rssGrowthMb.trustgate.toFixed(1)} MB`,
    verdict: verdict(s.rssGrowthMb.trustgate < RSS_GROWTH_LIMIT_MB),
  };
}

function blobTarget(s: LoadSummary | undefined, scenario: string): Check {
  const measure = `blobs (${scenario})`;
  const target = 'above nginx (0.63× direct), aiming at 0.9× direct';
  if (s === undefined) return unmeasured(measure, target, scenario);
  const r = s.byteRatios ?? s.ratios;
  return {
    measure,
    target,
    measured: `${x(r.trustgateToNginx)} nginx, ${x(r.trustgateToDirect)} direct (GiB/s)`,
    verdict: verdict(r.trustgateToNginx === null ? null : r.trustgateToNginx > 1),
    aim: { goal: '0.9× direct', verdict: verdict(r.trustgateToDirect === null ? null : r.trustgateToDirect >= 0.9) },
  };
}

/** The target's row name per cold-verification variant (the key one keeps the name of earlier runs). */
const COLD_MEASURES: Readonly<Record<string, string>> = {
  'cold-verification': 'cold verification',
  'cold-verification-keyless': 'cold verification, keyless (.sig)',
  'cold-verification-keyless-bundle': 'cold verification, keyless (bundle)',
};

function coldTarget(s: ColdSummary | undefined, scenario: string): Check {
  const measure = COLD_MEASURES[scenario] ?? scenario;
  const target = `p50 ≤ ${COLD_BEYOND_UPSTREAM_MS} ms beyond the upstream round trips`;
  if (s === undefined) return unmeasured(measure, target, scenario);
  return {
    measure,
    target,
    measured: `${s.beyondUpstreamMs.toFixed(2)} ms (p50 ${s.trustgate.p50Ms.toFixed(2)} − ${s.upstream.msPerPull.toFixed(2)} ms upstream per pull)`,
    verdict: verdict(s.beyondUpstreamMs <= COLD_BEYOND_UPSTREAM_MS),
  };
}

const allAnswered = (shares: readonly HerdShare[]): boolean => shares.every((s) => s.ok === s.pulls);
const perRound = (values: readonly number[]): string => values.join(', ');

function herdTargets(s: HerdSummary | undefined): Check[] {
  const single = 'thundering herd, one process';
  const singleTarget = 'exactly 1 verification per process';
  const many = 'thundering herd, two replicas';
  const manyTarget = 'no more than 1 verification per replica';
  if (s === undefined) return [unmeasured(single, singleTarget, 'thundering-herd'), unmeasured(many, manyTarget, 'thundering-herd')];
  const singles = s.rounds.map((r) => r.single.shares[0]!);
  const okSingle = singles.every((share) => share.verifications === 1) && allAnswered(singles);
  const answered = (shares: readonly HerdShare[]): string =>
    `${shares.reduce((n, sh) => n + sh.ok, 0)}/${shares.reduce((n, sh) => n + sh.pulls, 0)} answered 200 with the digest`;
  const out: Check[] = [
    {
      measure: single,
      target: singleTarget,
      measured: `${perRound(singles.map((sh) => sh.verifications))} verification(s) (per round); ${answered(singles)}`,
      verdict: verdict(okSingle),
    },
  ];
  const first = s.rounds[0]!.replicas;
  if ('skipped' in first) {
    out.push({ measure: many, target: manyTarget, measured: `- (skipped: ${first.skipped})`, verdict: 'not measured' });
    return out;
  }
  const replicaShares = s.rounds.flatMap((r) => ('shares' in r.replicas ? r.replicas.shares : []));
  const labels = [...new Set(replicaShares.map((sh) => sh.process))];
  const measured = labels
    .map((label) => `${label}: ${perRound(replicaShares.filter((sh) => sh.process === label).map((sh) => sh.verifications))}`)
    .join('; ');
  out.push({
    measure: many,
    target: manyTarget,
    measured: `${measured} (per round); ${answered(replicaShares)}`,
    verdict: verdict(replicaShares.every((sh) => sh.verifications <= 1) && allAnswered(replicaShares)),
  });
  return out;
}

function rssTarget(s: LoadSummary | undefined): Check {
  const measure = 'a 1 GiB blob';
  const target = `RSS grows < ${RSS_GROWTH_LIMIT_MB} MB while it streams`;
  if (s === undefined || s.rssGrowthMb === null) return unmeasured(measure, target, 'blob-1gib');
  return {
    measure,
    target,
    measured: `${s.rssGrowthMb.trustgate.toFixed(1)} MB (worst stream; nginx ${s.rssGrowthMb.nginx.toFixed(1)} MB)`,
    verdict: verdict(s.rssGrowthMb.trustgate < RSS_GROWTH_LIMIT_MB),
  };
}

const tagged = (issue: string, checks: readonly Check[]): TargetCheck[] => checks.map((c) => ({ issue, ...c }));

export function checkTargets(summaries: readonly ScenarioSummary[]): TargetCheck[] {
  return [...tagged('#7', issue7(summaries)), ...tagged('#15', issue15(summaries))];
}

function issue15(summaries: readonly ScenarioSummary[]): Check[] {
  const load = (name: string): LoadSummary | undefined => find(summaries, name, 'load');
  return [
    ratioTarget('10 MiB blob, uncached', '≥ 1.0× nginx', load('blob-10mib'), 'blob-10mib', 'nginx', 1.0),
    ratioTarget(
      '10 MiB blob, cached',
      `≥ ${CACHED_BLOB_MIN}× direct`,
      load('blob-10mib-cached'),
      'blob-10mib-cached',
      'direct',
      CACHED_BLOB_MIN,
    ),
    allOf('manifest GET and HEAD by tag', '≥ 1.0× nginx, each', [
      ratioTarget('GET', '', load('manifest-get-by-tag'), 'manifest-get-by-tag', 'nginx', 1.0),
      ratioTarget('HEAD', '', load('manifest-head-by-tag'), 'manifest-head-by-tag', 'nginx', 1.0),
    ]),
    spreadTarget(summaries),
    coldStartTarget(find(summaries, 'cold-start', 'start')),
    allOf('1 GiB blob RSS growth, cached and uncached', `< ${RSS_GROWTH_LIMIT_MB} MB while it streams, each (worst stream)`, [
      growthOf(load('blob-1gib'), 'blob-1gib', 'uncached'),
      growthOf(load('blob-1gib-cached'), 'blob-1gib-cached', 'cached'),
    ]),
  ];
}

function issue7(summaries: readonly ScenarioSummary[]): Check[] {
  return [
    ratioTarget(
      'manifest GET by tag, resolved afresh every time',
      '≥ 1.0× nginx',
      find(summaries, 'manifest-get-by-tag', 'load'),
      'manifest-get-by-tag',
      'nginx',
      1.0,
    ),
    ratioTarget(
      'GET by digest',
      '≥ 1.2× direct',
      find(summaries, 'manifest-get-by-digest', 'load'),
      'manifest-get-by-digest',
      'direct',
      1.2,
    ),
    ratioTarget('HEAD by tag', '≥ 1.0× nginx', find(summaries, 'manifest-head-by-tag', 'load'), 'manifest-head-by-tag', 'nginx', 1.0),
    blobTarget(find(summaries, 'blob-10mib', 'load'), 'blob-10mib'),
    blobTarget(find(summaries, 'blob-1gib', 'load'), 'blob-1gib'),
    ...Object.keys(COLD_MEASURES).map((name) => coldTarget(find(summaries, name, 'cold'), name)),
    ...herdTargets(find(summaries, 'thundering-herd', 'herd')),
    rssTarget(find(summaries, 'blob-1gib', 'load')),
  ];
}
