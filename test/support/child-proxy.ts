// trustgate as a real process (`node --import tsx src/main.ts`), for tests of what only the
// process does: start order, readiness, signals, logs on stdout. Killed on exit when a test forgets.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPEN_POLICY, runtimeFiles, type RuntimeFiles } from './runtime-files.ts';

export interface ChildProxy {
  readonly child: ChildProcess;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  out(): string;
  err(): string;
  /** Polls stdout until `pattern` matches `times` times (default once); fails with the output so far after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number, times?: number): Promise<RegExpExecArray>;
  /** The listener's URL, from the `listening` line (logged before the runtime is built). */
  url(): Promise<string>;
  /** The listener's URL once `started` is logged (the runtime is built). */
  ready(): Promise<string>;
  /** SIGKILL if still running, then remove the config files. */
  kill(): Promise<void>;
}

const LISTENING = /"event":"listening","address":"(https?:\/\/[^"]+)"/;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Writes `yaml` to a temp dir and starts trustgate on it, with `files` (a policy and keys/ the
 * caller owns and may rewrite) or else an open policy and an empty keys/ of its own.
 */
export function spawnProxy(yaml: string, env: Record<string, string> = {}, given?: RuntimeFiles): ChildProxy {
  const files = given ?? runtimeFiles(OPEN_POLICY);
  const dir = mkdtempSync(join(tmpdir(), 'tg-child-'));
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
  const waitFor = async (pattern: RegExp, timeoutMs = 15_000, times = 1): Promise<RegExpExecArray> => {
    const until = Date.now() + timeoutMs;
    const every = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    for (;;) {
      const match = pattern.exec(stdout);
      if (match !== null && (times === 1 || (stdout.match(every) ?? []).length >= times)) return match;
      if (Date.now() > until || child.exitCode !== null)
        throw new Error(`no ${times}× ${pattern} in stdout:\n${stdout}\nstderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    waitFor,
    url: async () => (await waitFor(LISTENING))[1]!,
    async ready() {
      await waitFor(/"event":"started"/, 20_000);
      return LISTENING.exec(stdout)![1]!;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (given === undefined) files.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lines of stdout that are JSON records with this `event`. */
export function records(stdout: string, event: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.includes(`"event":"${event}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
