// The soak's summary, in the same layout every time: requests by class with latencies, resources at
// start, middle and end, then every check.
import type { SoakReport } from './soak-engine.ts';
import type { ResourceSample } from './resources.ts';

const pad = (text: string | number, width: number): string => String(text).padStart(width);
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-');
const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(1);

export function formatReport(report: SoakReport): string {
  const seconds = report.durationMs / 1000;
  const lines = [
    `soak: ${report.concurrency} requests in flight, ${seconds} s measured after ${(report.warmupMs / 1000).toFixed(0)} s of warm-up (${report.warmupSettled ? 'settled' : 'did not settle'}, ${report.warmup.sent} requests, ${report.warmup.errors} unexpected)`,
    '',
    `${'class'.padEnd(20)}${pad('sent', 10)}${pad('req/s', 9)}${pad('errors', 8)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}`,
  ];
  for (const k of report.classes) {
    lines.push(
      `${k.name.padEnd(20)}${pad(k.sent, 10)}${pad(Math.round(k.sent / seconds), 9)}${pad(k.errors, 8)}${pad(ms(k.p50Ms), 9)}${pad(ms(k.p99Ms), 9)}`,
    );
  }
  lines.push(`${'total'.padEnd(20)}${pad(report.sent, 10)}${pad(Math.round(report.sent / seconds), 9)}${pad(report.errors, 8)}`);

  const m = report.measured;
  const points: Array<[string, ResourceSample | undefined]> = [
    ['idle', report.idle],
    ['start', m[0]],
    ['middle', m[Math.floor(m.length / 2)]],
    ['end', m[m.length - 1]],
  ];
  lines.push(
    '',
    `${'resources'.padEnd(20)}${points.map(([label, s]) => pad(`${label}${s === undefined ? '' : ` @${Math.round(s.atMs / 1000)}s`}`, 14)).join('')}`,
  );
  lines.push(`${'RSS MB'.padEnd(20)}${points.map(([, s]) => pad(s === undefined ? '-' : mb(s.rssBytes), 14)).join('')}`);
  lines.push(`${'open fds'.padEnd(20)}${points.map(([, s]) => pad(s === undefined ? '-' : s.fds, 14)).join('')}`);

  lines.push('', 'checks:');
  for (const check of report.checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  lines.push('', report.ok ? 'soak passed' : 'soak FAILED');
  return lines.join('\n');
}
