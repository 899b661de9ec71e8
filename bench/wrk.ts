// wrk (Debian package `wrk`): one thread, a Lua script for method and headers,
// --latency for percentiles, --timeout 20s (hey's default; wrk's own 2 s counts
// slow 10 MiB blobs on a busy machine as socket errors and reconnects). wrk 4.1 waits for a body after a HEAD response
// that carries Content-Length (wg/wrk#198), so it is used for GET only.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadRequest } from './load.ts';
import type { LoadResult } from './types.ts';

export const WRK_BIN = '/usr/bin/wrk';

const luaString = (s: string): string => {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`only printable ASCII fits in the wrk script: ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
};

/** Writes the Lua script for this method and these headers into dir (same request, same file) and returns wrk's arguments. */
export async function wrkArgs(request: LoadRequest, connections: number, durationSec: number, dir: string, threads = 1): Promise<string[]> {
  const lines = [`wrk.method = ${luaString(request.method)}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  const text = lines.join('\n') + '\n';
  const script = join(dir, `wrk-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.lua`);
  await writeFile(script, text);
  return [`-t${threads}`, `-c${connections}`, `-d${durationSec}s`, '--timeout', '20s', '--latency', '-s', script, request.url];
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string, what: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`cannot read ${what} "${text}" from wrk`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]! * 1000) / 1000;
}

/** Parses `wrk --latency` output. */
export function parseWrk(output: string): LoadResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const match = re.exec(output);
    if (!match) throw new Error(`wrk output has no ${what}:\n${output}`);
    return match;
  };
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    tool: 'wrk',
    requestsPerSec: Number(need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    bytesPerSec: null,
    p50Ms: durationMs(need(/^\s*50%\s+(\S+)/m, 'p50')[1]!, 'p50'),
    p99Ms: durationMs(need(/^\s*99%\s+(\S+)/m, 'p99')[1]!, 'p99'),
    // wrk counts status > 399 here, whatever the label says.
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0),
    requests: Number(need(/(\d+) requests in /, 'request count')[1]),
    socketErrors: sockets ? sockets.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}
