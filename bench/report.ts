// Medians over rounds and the one report layout: a few context lines, a
// markdown table, and the legend.
import type { LoadResult, ScenarioResult } from './types.ts';

export interface RunInfo {
  durationSec: number;
  connections: number;
  rounds: number;
  warmupSec: number;
  /** --cold-images: images per round of cold-verification. */
  coldImages: number;
  pinning: string;
  tools: string;
}

export interface ScenarioSummary {
  scenario: string;
  measures: string;
  /** Medians over rounds; non2xx and socketErrors are sums. */
  direct: LoadResult;
  proxy: LoadResult;
  /** proxy.requestsPerSec ÷ direct.requestsPerSec of the medians above; null when req/s does not apply. */
  ratio: number | null;
  /** proxy.p50Ms − direct.p50Ms of the medians above; for cold-verification, the verification overhead. */
  p50OverheadMs: number;
  rounds: ScenarioResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function combine(results: readonly LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  const rates = results.map((r) => r.requestsPerSec);
  return {
    tool: [...new Set(results.map((r) => r.tool))].join('+'),
    requestsPerSec: rates.every((rate) => rate !== null) ? median(rates as number[]) : null,
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    non2xx: sum((r) => r.non2xx),
    requests: sum((r) => r.requests),
    socketErrors: sum((r) => r.socketErrors),
  };
}

export function summarize(scenario: string, measures: string, rounds: ScenarioResult[]): ScenarioSummary {
  const direct = combine(rounds.map((r) => r.direct));
  const proxy = combine(rounds.map((r) => r.proxy));
  const ratio = direct.requestsPerSec === null || proxy.requestsPerSec === null
    ? null
    : direct.requestsPerSec > 0 ? proxy.requestsPerSec / direct.requestsPerSec : 0;
  const p50OverheadMs = Math.round((proxy.p50Ms - direct.p50Ms) * 1000) / 1000;
  return { scenario, measures, direct, proxy, ratio, p50OverheadMs, rounds };
}

const HEADER = [
  'scenario', 'direct req/s', 'trustgate req/s', 'ratio', 'direct p50 ms', 'trustgate p50 ms', 'p50 overhead ms',
  'direct p99 ms', 'trustgate p99 ms', 'errors direct / trustgate', 'load tool',
];
const RIGHT = [false, true, true, true, true, true, true, true, true, true, false];

/** "-" where a figure does not apply (req/s and ratio of cold-verification). */
const fixed = (value: number | null, digits: number): string => (value === null ? '-' : value.toFixed(digits));
const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;

function row(s: ScenarioSummary): string[] {
  const errors = (r: LoadResult): number => r.non2xx + r.socketErrors;
  return [
    s.scenario,
    fixed(s.direct.requestsPerSec, 0),
    fixed(s.proxy.requestsPerSec, 0),
    fixed(s.ratio, 2),
    s.direct.p50Ms.toFixed(2),
    s.proxy.p50Ms.toFixed(2),
    signed(s.p50OverheadMs),
    s.direct.p99Ms.toFixed(2),
    s.proxy.p99Ms.toFixed(2),
    `${errors(s.direct)} / ${errors(s.proxy)}`,
    s.direct.tool === s.proxy.tool ? s.direct.tool : `${s.direct.tool} / ${s.proxy.tool}`,
  ];
}

function table(rows: string[][]): string[] {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (RIGHT[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (RIGHT[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(HEADER), rule, ...rows.map(line)];
}

export function formatReport(info: RunInfo, summaries: readonly ScenarioSummary[]): string {
  const warmup = info.warmupSec > 0 ? `${info.warmupSec} s warm-up per target` : 'no warm-up';
  return [
    `trustgate bench: ${info.rounds} round(s), each scenario direct then via trustgate, ${info.durationSec} s per measurement, ` +
      `${info.connections} connections (wrk: 1 thread), ${warmup}, cold-verification: ${info.coldImages} images per round; ` +
      'figures are medians over rounds',
    'signature enforcement: on (rule "bench", threshold 1, one ECDSA P-256 key made for this run); the signed image\'s verdict ' +
      'is cached before measuring, an unsigned image was refused with 403',
    `pinning: ${info.pinning}`,
    `tools: ${info.tools}`,
    '',
    ...table(summaries.map(row)),
    '',
    'ratio = trustgate req/s ÷ direct req/s (the two medians above, same run); p50 overhead = trustgate p50 − direct p50; ' +
      'errors = responses with status >= 400 plus socket errors, summed over rounds.',
    `cold-verification: per round, ${info.coldImages} images pushed and signed just before, each fetched once by tag directly ` +
      'and then once via trustgate, one request at a time (node fetch); p50/p99 over those pulls (nearest rank: below 100 images ' +
      'p99 is the slowest); req/s and ratio do not apply (-); errors also count a 200 with the wrong body. Its p50 overhead is ' +
      'the cost of a first pull: proxying plus fetching, discovering and verifying the signature and evaluating the policy.',
    'load tool: wrk for GET; hey for HEAD, because wrk 4.1 waits for a body after a HEAD response with Content-Length ' +
      '(wg/wrk#198). Compare direct with trustgate within a row, not rows measured by different tools.',
  ].join('\n');
}
