// Reading /metrics in the fault tests (the child process itself is test/support/child-proxy.ts).

/** One series of a Prometheus text exposition, e.g. `trustgate_reload_failures_total{kind="policy"}`. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
