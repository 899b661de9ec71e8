// trustgate as a real process (`node --import tsx src/main.ts`) on a config, policy and keys/ the
// test owns and may rewrite (test/support/child-proxy.ts always writes an open policy), for the
// rows only the process shows: signals, reloads, the drain, logs on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeFiles } from '../../support/runtime-files.ts';

export interface Trustgate {
  readonly child: ChildProcess;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  out(): string;
  /** Polls stdout until `pattern` matches at least `times` times; fails with the output after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number, times?: number): Promise<void>;
  /** The listener's URL, once `started` is logged (the runtime is built). */
  ready(): Promise<string>;
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function spawnTrustgate(yaml: string, files: RuntimeFiles, env: Record<string, string> = {}): Trustgate {
  const dir = mkdtempSync(join(tmpdir(), 'tg-faults-child-'));
  const config = join(dir, 'trustgate.yaml');
  writeFileSync(config, `${yaml}\n${files.configLines}`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', config], {
    env: { ...process.env, TRUSTGATE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000, times = 1): Promise<void> => {
    const until = Date.now() + timeoutMs;
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    for (;;) {
      if ((stdout.match(global) ?? []).length >= times) return;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${times}× ${pattern} in stdout:\n${stdout}\nstderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    child,
    exited,
    out: () => stdout,
    waitFor,
    async ready() {
      await waitFor(/"event":"started"/);
      return /"event":"listening","address":"(https?:\/\/[^"]+)"/.exec(stdout)![1]!;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One series of a Prometheus text exposition, e.g. `trustgate_reload_failures_total{kind="policy"}`. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
