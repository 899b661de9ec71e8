// The performance targets of issue #7 ("Targets"), each compared with the
// figure this run measured. Benchmark figures, not timed tests: nothing fails
// when a target is missed, the report says so.
import type { ColdSummary, HerdSummary, LoadSummary, ScenarioSummary } from './summary.ts';
import type { HerdShare } from './types.ts';

export type Verdict = 'met' | 'not met' | 'not measured';

export interface TargetCheck {
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

const unmeasured = (measure: string, target: string, scenario: string): TargetCheck => ({
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
): TargetCheck {
  if (s === undefined) return unmeasured(measure, target, scenario);
  const value = against === 'nginx' ? s.ratios.trustgateToNginx : s.ratios.trustgateToDirect;
  return { measure, target, measured: `${x(value)} ${against} (${scenario})`, verdict: verdict(value === null ? null : value >= min) };
}

function blobTarget(s: LoadSummary | undefined, scenario: string): TargetCheck {
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

function coldTarget(s: ColdSummary | undefined, scenario: string): TargetCheck {
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

function herdTargets(s: HerdSummary | undefined): TargetCheck[] {
  const single = 'thundering herd, one process';
  const singleTarget = 'exactly 1 verification per process';
  const many = 'thundering herd, two replicas';
  const manyTarget = 'no more than 1 verification per replica';
  if (s === undefined) return [unmeasured(single, singleTarget, 'thundering-herd'), unmeasured(many, manyTarget, 'thundering-herd')];
  const singles = s.rounds.map((r) => r.single.shares[0]!);
  const okSingle = singles.every((share) => share.verifications === 1) && allAnswered(singles);
  const answered = (shares: readonly HerdShare[]): string =>
    `${shares.reduce((n, sh) => n + sh.ok, 0)}/${shares.reduce((n, sh) => n + sh.pulls, 0)} answered 200 with the digest`;
  const out: TargetCheck[] = [
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

function rssTarget(s: LoadSummary | undefined): TargetCheck {
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

export function checkTargets(summaries: readonly ScenarioSummary[]): TargetCheck[] {
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
