// trustgate's own counts, read from its /metrics (Prometheus text exposition
// format 0.0.4): verifications and upstream requests by op, as deltas between
// two scrapes. Metric names are those of src/metrics/metrics.ts.
export const VERIFICATIONS = 'trustgate_verification_duration_seconds';
export const UPSTREAM_REQUESTS = 'trustgate_upstream_request_duration_seconds';
/** The op label values src/metrics/metrics.ts defines (UpstreamOp), in report order. */
export const UPSTREAM_OPS = ['manifest', 'signature', 'referrers', 'blob', 'tags', 'token'] as const;

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type Scrape = Series[];

/** Parses `name{a="b",…} value` lines; comments and malformed lines are skipped. */
export function parseMetrics(text: string): Scrape {
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return series;
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}: ${text.slice(0, 300)}`);
  return parseMetrics(text);
}

/** The sum of every series named `name` whose labels include `where`. */
export function total(scrape: Scrape, name: string, where: Record<string, string> = {}): number {
  return scrape
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** What happened between two scrapes of one process. */
export interface MetricsDelta {
  verifications: number;
  verificationSeconds: number;
  /** Upstream requests by op (only ops with a non-zero count). */
  upstream: Record<string, number>;
  upstreamRequests: number;
  upstreamSeconds: number;
}

export function delta(before: Scrape, after: Scrape): MetricsDelta {
  const diff = (name: string, where: Record<string, string> = {}): number => total(after, name, where) - total(before, name, where);
  const upstream: Record<string, number> = {};
  for (const op of UPSTREAM_OPS) {
    const count = diff(`${UPSTREAM_REQUESTS}_count`, { op });
    if (count !== 0) upstream[op] = count;
  }
  return {
    verifications: diff(`${VERIFICATIONS}_count`),
    verificationSeconds: diff(`${VERIFICATIONS}_sum`),
    upstream,
    upstreamRequests: diff(`${UPSTREAM_REQUESTS}_count`),
    upstreamSeconds: diff(`${UPSTREAM_REQUESTS}_sum`),
  };
}
