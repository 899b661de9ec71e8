// hey (Debian package `hey`): the load generator for HEAD, which wrk cannot
// measure. Go's HTTP client knows a HEAD response has no body. Same closed
// loop as wrk: `-c` workers, each sending its next request when the last ends.
import type { LoadRequest } from './load.ts';
import type { LoadResult } from './types.ts';

export const HEY_BIN = '/usr/bin/hey';

export function heyArgs(request: LoadRequest, connections: number, durationSec: number): string[] {
  const headers = Object.entries(request.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  return ['-z', `${durationSec}s`, '-c', String(connections), '-m', request.method, ...headers, request.url];
}

/** Parses hey's summary. Its latencies are seconds with four decimals (0.1 ms resolution). */
export function parseHey(output: string): LoadResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const match = re.exec(output);
    if (!match) throw new Error(`hey output has no ${what}:\n${output}`);
    return match;
  };
  const section = (title: string): string => {
    const at = output.indexOf(`${title}:`);
    return at === -1 ? '' : output.slice(at).split(/\n\s*\n/)[0]!;
  };
  let requests = 0;
  let non2xx = 0;
  for (const [, code, count] of section('Status code distribution').matchAll(/\[(\d+)\]\s+(\d+) responses/g)) {
    requests += Number(count);
    if (Number(code) > 399) non2xx += Number(count); // the same rule as wrk's count
  }
  let socketErrors = 0;
  for (const [, count] of section('Error distribution').matchAll(/^\s*\[(\d+)\]/gm)) socketErrors += Number(count);
  return {
    tool: 'hey',
    requestsPerSec: Number(need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    bytesPerSec: null,
    p50Ms: Math.round(Number(need(/50% in ([\d.]+) secs/, 'p50')[1]) * 1e6) / 1000,
    p99Ms: Math.round(Number(need(/99% in ([\d.]+) secs/, 'p99')[1]) * 1e6) / 1000,
    non2xx,
    requests,
    socketErrors,
  };
}
