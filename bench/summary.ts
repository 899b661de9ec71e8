// Rounds → one summary per scenario: medians over rounds of each figure, taken
// separately; error counts summed; ratios from the medians; RSS growth and
// herd counts kept as measured (the worst round where one figure is needed);
// cold-start's figures per round, then their medians.
import type { ColdRound, HerdRound, LoadResult, LoadRound, RssGrowth, ScenarioResult, StartRound, UpstreamShare } from './types.ts';

export interface Ratios {
  /** trustgate ÷ direct, trustgate ÷ nginx, nginx ÷ direct: of req/s, or of bytes/s for blobs. */
  trustgateToDirect: number | null;
  trustgateToNginx: number | null;
  nginxToDirect: number | null;
}

export interface LoadSummary {
  kind: 'load';
  scenario: string;
  measures: string;
  direct: LoadResult;
  nginx: LoadResult;
  trustgate: LoadResult;
  /** Of req/s (the medians above). */
  ratios: Ratios;
  /** Of bytes/s, for blob scenarios; null otherwise. */
  byteRatios: Ratios | null;
  /** blob-1gib(-cached): the largest growth over rounds. */
  rssGrowthMb: RssGrowth | null;
  /** The -cached scenarios: bytes in the cache directory after the last round; null otherwise. */
  cacheDirBytes: number | null;
  rounds: LoadRound[];
}

export interface ColdSummary {
  kind: 'cold';
  scenario: string;
  measures: string;
  direct: LoadResult;
  trustgate: LoadResult;
  p50OverheadMs: number;
  p95OverheadMs: number;
  p99OverheadMs: number;
  /** Medians over rounds. */
  upstream: UpstreamShare;
  /** trustgate p50 − upstream ms per pull: what trustgate adds beyond waiting on the registry. */
  beyondUpstreamMs: number;
  /** trustgate p95 − upstream ms per pull (the mean): a rough tail figure, the upstream share of the slow pulls is not known. */
  beyondUpstreamP95Ms: number;
  rounds: ColdRound[];
}

export interface HerdSummary {
  kind: 'herd';
  scenario: string;
  measures: string;
  rounds: HerdRound[];
}

/** cold-start's figures for one round, or (in `median`) the medians over rounds. */
export interface StartFigures {
  readyMs: number;
  /** null when the manifest GET failed (in `median`: when it failed in every round). */
  manifestMs: number | null;
  /** The fresh process's first blob GET. */
  firstGetMs: number | null;
  firstMeanMs: number | null;
  firstMedianMs: number | null;
  steadyMeanMs: number | null;
  steadyMedianMs: number | null;
  /** first mean ÷ steady mean (#15's target: ≤ 2), and the same of the medians. */
  meanRatio: number | null;
  medianRatio: number | null;
  /** Failed GETs, first series / steady series (in `median`: summed over rounds). */
  errors: { first: number; steady: number };
}

export interface StartSummary {
  kind: 'start';
  scenario: string;
  measures: string;
  perRound: StartFigures[];
  /** Each figure's median over rounds (the ratios too: medians of the per-round ratios). */
  median: StartFigures;
  rounds: StartRound[];
}

export type ScenarioSummary = LoadSummary | ColdSummary | HerdSummary | StartSummary;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const medianOrNull = (values: ReadonlyArray<number | null>): number | null =>
  values.every((v) => v !== null) ? median(values as number[]) : null;

/** The median of the values that are there; null when none is. */
const medianOfPresent = (values: ReadonlyArray<number | null>): number | null => {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : median(present);
};

export interface Spread {
  min: number;
  median: number;
  max: number;
  /** The larger of (max − median) and (median − min), as a share of the median (#15: within ±15%). */
  spread: number;
}

/** Min, median, max of per-round figures and their spread; undefined when there are none. */
export function spreadOf(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = median(sorted);
  const [min, max] = [sorted[0]!, sorted.at(-1)!];
  return { min, median: mid, max, spread: mid > 0 ? Math.max(max - mid, mid - min) / mid : 0 };
}

export function combine(results: readonly LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  return {
    tool: [...new Set(results.map((r) => r.tool))].join('+'),
    requestsPerSec: medianOrNull(results.map((r) => r.requestsPerSec)),
    bytesPerSec: medianOrNull(results.map((r) => r.bytesPerSec)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    ...(results.every((r) => r.p95Ms !== undefined) ? { p95Ms: median(results.map((r) => r.p95Ms!)) } : {}),
    p99Ms: median(results.map((r) => r.p99Ms)),
    non2xx: sum((r) => r.non2xx),
    requests: sum((r) => r.requests),
    socketErrors: sum((r) => r.socketErrors),
    ...(results.every((r) => r.cpuUsPerRequest !== undefined)
      ? {
          cpuUsPerRequest: {
            registry: median(results.map((r) => r.cpuUsPerRequest!.registry)),
            proxy: median(results.map((r) => r.cpuUsPerRequest!.proxy)),
          },
        }
      : {}),
  };
}

const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b > 0 ? a / b : 0);
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function ratiosOf(pick: (r: LoadResult) => number | null, direct: LoadResult, nginx: LoadResult, trustgate: LoadResult): Ratios {
  return {
    trustgateToDirect: ratio(pick(trustgate), pick(direct)),
    trustgateToNginx: ratio(pick(trustgate), pick(nginx)),
    nginxToDirect: ratio(pick(nginx), pick(direct)),
  };
}

function summarizeLoad(scenario: string, measures: string, rounds: LoadRound[]): LoadSummary {
  const direct = combine(rounds.map((r) => r.direct));
  const nginx = combine(rounds.map((r) => r.nginx));
  const trustgate = combine(rounds.map((r) => r.trustgate));
  const growths = rounds.flatMap((r) => (r.rssGrowthMb === undefined ? [] : [r.rssGrowthMb]));
  return {
    kind: 'load',
    scenario,
    measures,
    direct,
    nginx,
    trustgate,
    ratios: ratiosOf((r) => r.requestsPerSec, direct, nginx, trustgate),
    byteRatios: direct.bytesPerSec === null ? null : ratiosOf((r) => r.bytesPerSec, direct, nginx, trustgate),
    rssGrowthMb:
      growths.length === 0
        ? null
        : {
            trustgate: Math.max(...growths.map((g) => g.trustgate)),
            nginx: Math.max(...growths.map((g) => g.nginx)),
          },
    cacheDirBytes: rounds.at(-1)?.cacheDirBytes ?? null,
    rounds,
  };
}

function summarizeCold(scenario: string, measures: string, rounds: ColdRound[]): ColdSummary {
  const direct = combine(rounds.map((r) => r.direct));
  const trustgate = combine(rounds.map((r) => r.trustgate));
  const upstream: UpstreamShare = {
    requestsPerPull: median(rounds.map((r) => r.upstream.requestsPerPull)),
    msPerPull: median(rounds.map((r) => r.upstream.msPerPull)),
    verificationMs: median(rounds.map((r) => r.upstream.verificationMs)),
  };
  return {
    kind: 'cold',
    scenario,
    measures,
    direct,
    trustgate,
    p50OverheadMs: round3(trustgate.p50Ms - direct.p50Ms),
    p95OverheadMs: round3((trustgate.p95Ms ?? NaN) - (direct.p95Ms ?? NaN)),
    p99OverheadMs: round3(trustgate.p99Ms - direct.p99Ms),
    upstream,
    beyondUpstreamMs: round3(trustgate.p50Ms - upstream.msPerPull),
    beyondUpstreamP95Ms: round3((trustgate.p95Ms ?? NaN) - upstream.msPerPull),
    rounds,
  };
}

const mean = (values: readonly number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

function startFigures(r: StartRound): StartFigures {
  const firstMeanMs = mean(r.first.ms);
  const firstMedianMs = r.first.ms.length === 0 ? null : median(r.first.ms);
  const steadyMeanMs = mean(r.steady.ms);
  const steadyMedianMs = r.steady.ms.length === 0 ? null : median(r.steady.ms);
  return {
    readyMs: r.readyMs,
    manifestMs: r.manifestMs,
    firstGetMs: r.first.ms[0] ?? null,
    firstMeanMs,
    firstMedianMs,
    steadyMeanMs,
    steadyMedianMs,
    meanRatio: ratio(firstMeanMs, steadyMeanMs),
    medianRatio: ratio(firstMedianMs, steadyMedianMs),
    errors: { first: r.first.errors, steady: r.steady.errors },
  };
}

function summarizeStart(scenario: string, measures: string, rounds: StartRound[]): StartSummary {
  const perRound = rounds.map(startFigures);
  const of = (pick: (f: StartFigures) => number | null): number | null => medianOfPresent(perRound.map(pick));
  return {
    kind: 'start',
    scenario,
    measures,
    perRound,
    median: {
      readyMs: median(perRound.map((f) => f.readyMs)),
      manifestMs: of((f) => f.manifestMs),
      firstGetMs: of((f) => f.firstGetMs),
      firstMeanMs: of((f) => f.firstMeanMs),
      firstMedianMs: of((f) => f.firstMedianMs),
      steadyMeanMs: of((f) => f.steadyMeanMs),
      steadyMedianMs: of((f) => f.steadyMedianMs),
      meanRatio: of((f) => f.meanRatio),
      medianRatio: of((f) => f.medianRatio),
      errors: {
        first: perRound.reduce((n, f) => n + f.errors.first, 0),
        steady: perRound.reduce((n, f) => n + f.errors.steady, 0),
      },
    },
    rounds,
  };
}

export function summarize(scenario: string, measures: string, rounds: ScenarioResult[]): ScenarioSummary {
  const kinds = new Set(rounds.map((r) => r.kind));
  if (kinds.size !== 1) throw new Error(`${scenario}: rounds of different kinds (${[...kinds].join(', ')})`);
  const kind = rounds[0]!.kind;
  if (kind === 'load') return summarizeLoad(scenario, measures, rounds as LoadRound[]);
  if (kind === 'cold') return summarizeCold(scenario, measures, rounds as ColdRound[]);
  if (kind === 'start') return summarizeStart(scenario, measures, rounds as StartRound[]);
  return { kind: 'herd', scenario, measures, rounds: rounds as HerdRound[] };
}
