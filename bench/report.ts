// The one report layout: a few context lines, then the same tables in the same
// order every time (throughput, spread over rounds, CPU per request, blobs,
// cold start, cold verification, thundering herd, memory and fds, targets),
// each with its legend. A table whose scenarios did not run still appears,
// with a "not run" row.
import type { PhaseSeries, Range } from './sampler.ts';
import {
  spreadOf,
  type ColdSummary,
  type HerdSummary,
  type LoadSummary,
  type Ratios,
  type ScenarioSummary,
  type StartFigures,
  type StartSummary,
} from './summary.ts';
import type { TargetCheck } from './targets.ts';
import { COLD_START_BLOBS } from './types.ts';
import type { HerdShare, LoadResult, LoadRound } from './types.ts';

export interface RunInfo {
  durationSec: number;
  connections: number;
  rounds: number;
  warmupSec: number;
  /** --cold-images: images per round of cold-verification. */
  coldImages: number;
  bigBlobMib: number;
  blobStreams: number;
  herdPulls: number;
  pinning: string;
  tools: string;
  /** Wall time of the whole run, set-up included, s. */
  wallSec: number;
}

export interface Report {
  info: RunInfo;
  scenarios: readonly ScenarioSummary[];
  memory: readonly PhaseSeries[];
  targets: readonly TargetCheck[];
}

const fixed = (value: number | null, digits: number): string => (value === null ? '-' : value.toFixed(digits));
/** req/s: whole numbers, but two decimals below 10 (blob-1gib streams a few per second at most). */
const rate = (value: number | null): string => fixed(value, value !== null && value < 10 ? 2 : 0);
const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
const three = (a: string, b: string, c: string): string => `${a} / ${b} / ${c}`;
const errors = (r: LoadResult): number => r.non2xx + r.socketErrors;
const GIB = 1024 ** 3;

/** A markdown table; `right` marks the right-aligned (numeric) columns. */
function table(header: readonly string[], right: readonly boolean[], rows: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${header.map((_, i) => (right[i] ? (cells[i] ?? '').padStart(widths[i]!) : (cells[i] ?? '').padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

const notRun = (width: number, what: string): string[] => [what, ...Array<string>(width - 1).fill('-')];

function ratioCells(r: Ratios): string[] {
  return [fixed(r.trustgateToDirect, 2), fixed(r.trustgateToNginx, 2), fixed(r.nginxToDirect, 2)];
}

function throughputTable(loads: readonly LoadSummary[]): string[] {
  const header = [
    'scenario',
    'direct req/s',
    'nginx req/s',
    'trustgate req/s',
    'trustgate÷direct',
    'trustgate÷nginx',
    'nginx÷direct',
    'p50 ms direct / nginx / trustgate',
    'p99 ms direct / nginx / trustgate',
    'errors d / n / t',
    'load tool',
  ];
  const rows = loads.map((s) => [
    s.scenario,
    rate(s.direct.requestsPerSec),
    rate(s.nginx.requestsPerSec),
    rate(s.trustgate.requestsPerSec),
    ...ratioCells(s.ratios),
    three(s.direct.p50Ms.toFixed(2), s.nginx.p50Ms.toFixed(2), s.trustgate.p50Ms.toFixed(2)),
    three(s.direct.p99Ms.toFixed(2), s.nginx.p99Ms.toFixed(2), s.trustgate.p99Ms.toFixed(2)),
    three(String(errors(s.direct)), String(errors(s.nginx)), String(errors(s.trustgate))),
    [...new Set([s.direct.tool, s.nginx.tool, s.trustgate.tool])].join(' / '),
  ]);
  return table(
    header,
    header.map((_, i) => i > 0 && i < 10),
    rows.length > 0 ? rows : [notRun(header.length, 'no load scenario run')],
  );
}

/**
 * Per load row and target, req/s over rounds as min / median / max, and the spread: the larger of
 * (max − median) and (median − min), as a share of the median (#15's target: within ±15%).
 */
function spreadTable(loads: readonly LoadSummary[]): string[] {
  const header = [
    'scenario',
    'rounds',
    'direct req/s min / med / max',
    'nginx req/s min / med / max',
    'trustgate req/s min / med / max',
    'spread d / n / t',
  ];
  const stats = (values: readonly number[]): { cell: string; spread: string } => {
    const s = spreadOf(values);
    if (s === undefined) return { cell: '-', spread: '-' };
    return { cell: three(s.min.toFixed(1), s.median.toFixed(1), s.max.toFixed(1)), spread: `±${(s.spread * 100).toFixed(0)}%` };
  };
  const rows = loads.map((s) => {
    const per = (pick: (r: LoadRound) => LoadResult) =>
      stats(s.rounds.map(pick).flatMap((r) => (r.requestsPerSec === null ? [] : [r.requestsPerSec])));
    const [d, n, t] = [per((r) => r.direct), per((r) => r.nginx), per((r) => r.trustgate)];
    return [s.scenario, String(s.rounds.length), d.cell, n.cell, t.cell, three(d.spread, n.spread, t.spread)];
  });
  return table(
    header,
    header.map((_, i) => i > 0),
    rows.length > 0 ? rows : [notRun(header.length, 'no load scenario run')],
  );
}

function cpuTable(loads: readonly LoadSummary[]): string[] {
  const header = ['scenario', 'registry µs/req direct / via nginx / via trustgate', 'nginx µs/req', 'trustgate µs/req'];
  const us = (r: LoadResult, pick: 'registry' | 'proxy'): string =>
    r.cpuUsPerRequest === undefined ? '-' : r.cpuUsPerRequest[pick].toFixed(0);
  const rows = loads
    .filter((s) => s.direct.cpuUsPerRequest !== undefined)
    .map((s) => [
      s.scenario,
      three(us(s.direct, 'registry'), us(s.nginx, 'registry'), us(s.trustgate, 'registry')),
      us(s.nginx, 'proxy'),
      us(s.trustgate, 'proxy'),
    ]);
  return table(
    header,
    header.map((_, i) => i > 0),
    rows.length > 0 ? rows : [notRun(header.length, 'no load scenario run')],
  );
}

function blobTable(loads: readonly LoadSummary[]): string[] {
  const header = [
    'scenario',
    'direct GiB/s',
    'nginx GiB/s',
    'trustgate GiB/s',
    'trustgate÷direct',
    'trustgate÷nginx',
    'nginx÷direct',
    'RSS growth MB nginx / trustgate',
    'cache dir MiB',
  ];
  const blobs = loads.filter((s) => s.byteRatios !== null);
  const gib = (r: LoadResult): string => fixed(r.bytesPerSec === null ? null : r.bytesPerSec / GIB, 2);
  const rows = blobs.map((s) => [
    s.scenario,
    gib(s.direct),
    gib(s.nginx),
    gib(s.trustgate),
    ...ratioCells(s.byteRatios!),
    s.rssGrowthMb === null ? '-' : `${s.rssGrowthMb.nginx.toFixed(1)} / ${s.rssGrowthMb.trustgate.toFixed(1)}`,
    s.cacheDirBytes === null ? '-' : (s.cacheDirBytes / 1024 ** 2).toFixed(1),
  ]);
  return table(
    header,
    header.map((_, i) => i > 0),
    rows.length > 0 ? rows : [notRun(header.length, 'no blob scenario run')],
  );
}

function coldTable(colds: readonly ColdSummary[]): string[] {
  const header = [
    'scenario',
    'direct p50 ms',
    'trustgate p50 ms',
    'p50 overhead ms',
    'direct p95 ms',
    'trustgate p95 ms',
    'direct p99 ms',
    'trustgate p99 ms',
    'p99 overhead ms',
    'upstream requests / pull',
    'upstream ms / pull',
    'beyond upstream ms p50 / p95',
    'verification ms (mean)',
    'errors d / t',
  ];
  const p95 = (r: LoadResult): string => fixed(r.p95Ms ?? null, 2);
  const rows = colds.map((cold) => [
    cold.scenario,
    cold.direct.p50Ms.toFixed(2),
    cold.trustgate.p50Ms.toFixed(2),
    signed(cold.p50OverheadMs),
    p95(cold.direct),
    p95(cold.trustgate),
    cold.direct.p99Ms.toFixed(2),
    cold.trustgate.p99Ms.toFixed(2),
    signed(cold.p99OverheadMs),
    cold.upstream.requestsPerPull.toFixed(1),
    cold.upstream.msPerPull.toFixed(2),
    `${signed(cold.beyondUpstreamMs)} / ${signed(cold.beyondUpstreamP95Ms)}`,
    cold.upstream.verificationMs.toFixed(2),
    `${errors(cold.direct)} / ${errors(cold.trustgate)}`,
  ]);
  return table(
    header,
    header.map((_, i) => i > 0),
    rows.length > 0 ? rows : [notRun(header.length, 'cold-verification not run')],
  );
}

function startTable(start: StartSummary | undefined): string[] {
  const header = [
    'round',
    'ready ms',
    'manifest GET ms',
    '1st blob GET ms',
    `first ${COLD_START_BLOBS} mean / median ms`,
    `steady ${COLD_START_BLOBS} mean / median ms`,
    'first÷steady mean',
    'first÷steady median',
    'failed GETs first / steady',
  ];
  const row = (label: string, f: StartFigures): string[] => [
    label,
    f.readyMs.toFixed(0),
    fixed(f.manifestMs, 1),
    fixed(f.firstGetMs, 1),
    `${fixed(f.firstMeanMs, 1)} / ${fixed(f.firstMedianMs, 1)}`,
    `${fixed(f.steadyMeanMs, 1)} / ${fixed(f.steadyMedianMs, 1)}`,
    fixed(f.meanRatio, 2),
    fixed(f.medianRatio, 2),
    `${f.errors.first} / ${f.errors.steady}`,
  ];
  const rows = start === undefined ? [] : [...start.perRound.map((f, i) => row(String(i + 1), f)), row('median', start.median)];
  return table(
    header,
    header.map((_, i) => i > 0),
    rows.length > 0 ? rows : [notRun(header.length, 'cold-start not run')],
  );
}

const OTHER_OPS = new Set(['manifest', 'signature', 'referrers', 'blob']);

function herdTable(herd: HerdSummary | undefined): string[] {
  const header = [
    'variant',
    'round',
    'process',
    'pulls',
    '200 with digest',
    'verifications',
    'upstream manifest',
    'upstream signature (.sig)',
    'upstream referrers',
    'upstream blob',
    'upstream other',
    'wall ms',
    'first failures',
  ];
  const rows: string[][] = [];
  const share = (variant: string, round: number, s: HerdShare, ms: number): string[] => [
    variant,
    String(round),
    s.process,
    String(s.pulls),
    String(s.ok),
    String(s.verifications),
    String(s.upstream['manifest'] ?? 0),
    String(s.upstream['signature'] ?? 0),
    String(s.upstream['referrers'] ?? 0),
    String(s.upstream['blob'] ?? 0),
    String(
      Object.entries(s.upstream)
        .filter(([op]) => !OTHER_OPS.has(op))
        .reduce((n, [, c]) => n + c, 0),
    ),
    String(ms),
    s.failures.length === 0 ? '-' : s.failures.join('; ').replace(/\|/g, '/').replace(/\s+/g, ' '),
  ];
  for (const [i, round] of (herd?.rounds ?? []).entries()) {
    for (const s of round.single.shares) rows.push(share('one process', i + 1, s, round.single.ms));
    if ('shares' in round.replicas) {
      for (const s of round.replicas.shares) rows.push(share('two replicas, one Redis', i + 1, s, round.replicas.ms));
    } else {
      rows.push([
        'two replicas, one Redis',
        String(i + 1),
        `skipped: ${round.replicas.skipped}`,
        ...Array<string>(header.length - 3).fill('-'),
      ]);
    }
  }
  return table(
    header,
    header.map((_, i) => i === 1 || (i >= 3 && i <= 11)),
    rows.length > 0 ? rows : [notRun(header.length, 'thundering-herd not run')],
  );
}

function memoryTable(memory: readonly PhaseSeries[]): string[] {
  const header = ['process', 'phase', 'samples', 'RSS MB start / min / max / end', 'fds start / min / max / end'];
  const span = (r: Range, digits: number): string => [r.start, r.min, r.max, r.end].map((v) => v.toFixed(digits)).join(' / ');
  const rows = memory.map((m) => [m.process, m.phase, String(m.samples), span(m.rssMb, 1), span(m.fds, 0)]);
  return table(header, [false, false, true, true, true], rows.length > 0 ? rows : [notRun(header.length, 'no samples')]);
}

function targetTable(targets: readonly TargetCheck[]): string[] {
  const header = ['issue', 'measure', 'target', 'measured', 'verdict'];
  const rows = targets.map((t) => [
    t.issue,
    t.measure,
    t.target,
    t.measured,
    t.aim === undefined ? t.verdict : `${t.verdict} (aim ${t.aim.goal}: ${t.aim.verdict})`,
  ]);
  return table(header, [false, false, false, false, false], rows);
}

export function formatReport({ info, scenarios, memory, targets }: Report): string {
  const loads = scenarios.filter((s): s is LoadSummary => s.kind === 'load');
  const colds = scenarios.filter((s): s is ColdSummary => s.kind === 'cold');
  const herd = scenarios.find((s): s is HerdSummary => s.kind === 'herd');
  const start = scenarios.find((s): s is StartSummary => s.kind === 'start');
  const cached = loads.filter((s) => s.cacheDirBytes !== null).map((s) => s.scenario);
  const warmup = info.warmupSec > 0 ? `${info.warmupSec} s warm-up per target` : 'no warm-up';
  return [
    `trustgate bench: ${info.rounds} round(s); in each, every load scenario runs direct, then via nginx, then via trustgate; ` +
      `${info.durationSec} s per load measurement, ${info.connections} connections (wrk: ${info.pinning.startsWith('unpinned (layout unpinned)') ? '2 threads' : '1 thread'}), ${warmup}; ` +
      `cold-verification: ${info.coldImages} images per round; blob-1gib(-cached): ${info.bigBlobMib} MiB, ${info.blobStreams} stream(s) per target per round; ` +
      `thundering-herd: ${info.herdPulls} pulls at once; figures are medians over rounds; the run took ${Math.round(info.wallSec)} s`,
    'signature enforcement: on (rule "bench", threshold 1, one ECDSA P-256 key made for this run; rule "keyless", one identity under ' +
      "a local sigstore made for this run, log required); the signed images' verdicts are cached before measuring, an unsigned image " +
      'was refused with 403',
    'nginx: a plain reverse proxy configured as for a registry (Debian nginx, one worker per CPU, HTTP/1.1 keepalive 64 to the registry, proxy_buffering off, access log off)',
    ...(cached.length === 0
      ? []
      : [
          `blob cache: in ${cached.join(', ')} the trustgate column is trustgate-cached, a second trustgate process with the same config plus ` +
            'blobCache.enabled: true (directory in the temp dir); its check filled the cache before the rounds',
        ]),
    `pinning: ${info.pinning}`,
    `tools: ${info.tools}`,
    '',
    '### Throughput',
    '',
    ...throughputTable(loads),
    '',
    'ratios use the medians in the row (same run, interleaved); errors = responses with status >= 400 plus socket errors, summed over rounds; ' +
      'wrk for GET, hey for HEAD (wrk 4.1 waits for a body after a HEAD response with Content-Length, wg/wrk#198): compare targets ' +
      'within a row. blob-1gib: req/s = streams per second, p50/p99 = whole-stream times (node http, one stream at a time).',
    '',
    '### Spread over rounds',
    '',
    ...spreadTable(loads),
    '',
    'req/s of each round; spread = the larger distance from the median to the slowest or the fastest round, as a share of the median.',
    '',
    '### CPU per request',
    '',
    ...cpuTable(loads),
    '',
    'CPU time (user + system, /proc/<pid>/stat, 10 ms ticks) each process used during a measurement ÷ the requests completed in it; ' +
      "medians over rounds. The registry, nginx and trustgate share one CPU when pinned, so a proxied request costs the registry's " +
      "time plus the proxy's: these columns say where the CPU of each row went.",
    '',
    '### Blobs',
    '',
    ...blobTable(loads),
    '',
    'GiB/s = response body bytes per second (blob-10mib: req/s × 10 MiB); ratios of those. RSS growth: the largest (max − sample just ' +
      'before the stream) over every stream of blob-1gib(-cached), sampled every 100 ms from /proc/<pid>/status (nginx: master + workers). ' +
      '-cached rows: the trustgate columns are trustgate-cached (blob cache on); cache dir = bytes in its blobCache.directory after the last round ' +
      '(0: nothing was cached, the row measured an uncached trustgate).',
    '',
    '### Cold start',
    '',
    ...startTable(start),
    '',
    `per round: a fresh trustgate process (built dist, the main trustgate's config, its own port); ready = spawn to the first 200 on /v2/ ` +
      `(polled every 100 ms); then one manifest GET (it allows the layer; in a fresh process it verifies the signature), then ${COLD_START_BLOBS} ` +
      `sequential GETs of the 10 MiB layer (node http, one keep-alive connection), and the process is stopped; steady = the same ${COLD_START_BLOBS} ` +
      'GETs on the long-running, warmed trustgate, each right after the fresh one (alternating). Each GET is timed to its last body byte; ratios within the round; ' +
      "the median row takes each column's median over rounds (failed GETs summed).",
    '',
    '### Cold verification',
    '',
    ...coldTable(colds),
    '',
    `per scenario and round, ${info.coldImages} images pushed and signed just before, each fetched once by tag directly and then once via trustgate, ` +
      'one request at a time (node fetch); p50/p95/p99 by nearest rank over those pulls (below 100 images p99 is the slowest). ' +
      'cold-verification: cosign .sig, bench key; -keyless: cosign .sig, keyless (leaf with SCT, chain, Rekor SET); -keyless-bundle: ' +
      'sigstore bundle v0.3 referrer, keyless (leaf with SCT, Rekor SET, inclusion proof, checkpoint), via the referrers fallback tag. upstream ' +
      "requests and ms per pull come from trustgate's /metrics (trustgate_upstream_request_duration_seconds count and sum deltas over " +
      'the round ÷ pulls; a sum of durations: the .sig and referrers lookups run side by side, so it can exceed the time waited); beyond upstream = trustgate p50 − upstream ms per pull: what trustgate adds to the registry round trips it ' +
      'makes (the client hop, verification, policy); at p95 the same mean is taken off, a rough tail figure. errors also count a 200 with ' +
      'the wrong body.',
    '',
    '### Thundering herd',
    '',
    ...herdTable(herd),
    '',
    `${info.herdPulls} GETs by digest of a freshly pushed and signed manifest, all sent at once over as many connections (undici Pool); ` +
      'verifications = trustgate_verification_duration_seconds_count delta, upstream = trustgate_upstream_request_duration_seconds_count ' +
      'delta by op (signature = the cosign .sig tag, referrers = the referrers API; the referrers fallback tag counts as manifest, ' +
      "signature payload blobs as blob). Two replicas: two more trustgate processes sharing the machine's Redis under a key " +
      'prefix of this run, half the pulls each, a new image.',
    '',
    '### Memory and file descriptors',
    '',
    ...memoryTable(memory),
    '',
    'sampled every second and at every phase change from /proc/<pid>/status (VmRSS) and /proc/<pid>/fd, process and children ' +
      "(MB = 10^6 bytes); a phase's figures span all its rounds.",
    '',
    '### Targets (issues #7 and #15)',
    '',
    ...targetTable(targets),
  ].join('\n');
}
