// Medians over rounds and the one report layout: a few context lines, a
// markdown table, and the legend.
import type { LoadResult, ScenarioResult } from './types.ts';

export interface RunInfo {
  durationSec: number;
  connections: number;
  rounds: number;
  warmupSec: number;
  pinning: string;
  tools: string;
}

export interface ScenarioSummary {
  scenario: string;
  measures: string;
  /** Medians over rounds; non2xx and socketErrors are sums. */
  direct: LoadResult;
  proxy: LoadResult;
  /** proxy.requestsPerSec ÷ direct.requestsPerSec of the medians above. */
  ratio: number;
  rounds: ScenarioResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function combine(results: readonly LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  return {
    tool: [...new Set(results.map((r) => r.tool))].join('+'),
    requestsPerSec: median(results.map((r) => r.requestsPerSec)),
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
  return { scenario, measures, direct, proxy, ratio: direct.requestsPerSec > 0 ? proxy.requestsPerSec / direct.requestsPerSec : 0, rounds };
}

const HEADER = ['scenario', 'direct req/s', 'trustgate req/s', 'ratio', 'direct p50 ms', 'trustgate p50 ms', 'direct p99 ms', 'trustgate p99 ms', 'errors direct / trustgate', 'load tool'];
const RIGHT = [false, true, true, true, true, true, true, true, true, false];

function row(s: ScenarioSummary): string[] {
  const errors = (r: LoadResult): number => r.non2xx + r.socketErrors;
  return [
    s.scenario,
    s.direct.requestsPerSec.toFixed(0),
    s.proxy.requestsPerSec.toFixed(0),
    s.ratio.toFixed(2),
    s.direct.p50Ms.toFixed(2),
    s.proxy.p50Ms.toFixed(2),
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
      `${info.connections} connections (wrk: 1 thread), ${warmup}; figures are medians over rounds`,
    `pinning: ${info.pinning}`,
    `tools: ${info.tools}`,
    '',
    ...table(summaries.map(row)),
    '',
    'ratio = trustgate req/s ÷ direct req/s (the two medians above, same run); ' +
      'errors = responses with status >= 400 plus socket errors, summed over rounds.',
    'load tool: wrk for GET; hey for HEAD, because wrk 4.1 waits for a body after a HEAD response with Content-Length ' +
      '(wg/wrk#198). Compare direct with trustgate within a row, not rows measured by different tools.',
  ].join('\n');
}
