// Reads trustgate's /metrics (Prometheus text exposition format 0.0.4) into series → value, and
// sums counters over label sets, for the soak's counter arithmetic.

/** `name{labels}` exactly as exposed → value. */
export type Scrape = ReadonlyMap<string, number>;

export async function scrapeMetrics(proxyUrl: string): Promise<Scrape> {
  const res = await fetch(`${proxyUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match !== null) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** Parses `{a="x",b="y"}` (label values here never hold quotes or commas). */
function labelsOf(series: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const open = series.indexOf('{');
  if (open === -1) return labels;
  for (const match of series.slice(open + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[match[1]!] = match[2]!;
  return labels;
}

/** The sum of `name` over every series whose labels include all of `where`. */
export function sumOf(scrape: Scrape, name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const [series, value] of scrape) {
    const bare = series.includes('{') ? series.slice(0, series.indexOf('{')) : series;
    if (bare !== name) continue;
    const labels = labelsOf(series);
    if (Object.entries(where).every(([k, v]) => labels[k] === v)) total += value;
  }
  return total;
}

/** after − before of `sumOf(name, where)`. */
export function deltaOf(before: Scrape, after: Scrape, name: string, where: Record<string, string> = {}): number {
  return sumOf(after, name, where) - sumOf(before, name, where);
}

/** Every series of `name` whose value changed, as `labels → delta`, for the report. */
export function changedSeries(before: Scrape, after: Scrape, name: string): Array<{ labels: Record<string, string>; delta: number }> {
  const out: Array<{ labels: Record<string, string>; delta: number }> = [];
  for (const [series, value] of after) {
    if (!series.startsWith(`${name}{`)) continue;
    const delta = value - (before.get(series) ?? 0);
    if (delta !== 0) out.push({ labels: labelsOf(series), delta });
  }
  return out;
}
