// A throwaway redis-server on a free loopback port, for tests that stop, restart or reconfigure
// Redis (never the shared one). No persistence: a restart comes back empty, like a crash of a
// cache-only Redis. Children are killed on exit even when a test forgets.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../kit/free-port.ts';

export interface OwnRedisOptions {
  /** Extra arguments; `dir` is a private temp dir (for cluster or sentinel files). */
  readonly args?: (dir: string, port: number) => string[];
  /** Use the port for TLS (`--tls-port`) instead of plain TCP. */
  readonly tls?: boolean;
  /** Run `redis-server --sentinel` (args must then include a config file first). */
  readonly sentinel?: boolean;
}

export interface OwnRedis {
  readonly port: number;
  readonly dir: string;
  /** SIGKILL, like a crash. */
  kill(): Promise<void>;
  /** Start again on the same port, empty. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open, nothing answers (a hung Redis). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnOnce(port: number, dir: string, options: OwnRedisOptions): Promise<ChildProcess> {
  const base = options.tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const extra = options.args?.(dir, port) ?? [];
  const args = options.sentinel
    ? [...extra, '--sentinel', '--port', String(port), '--bind', '127.0.0.1']
    : [...base, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`redis-server on ${port} not ready: ${output}`)), 10_000);
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8192);
      if (/Ready to accept connections|Sentinel ID is/.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => fail(new Error(`redis-server exited (${code ?? signal}): ${output}`)));
  });
}

async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await spawnOnce(port, dir, options);
    } catch (error) {
      if (attempt >= 2 || !/in use/i.test(String(error))) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const own: OwnRedis = {
    port,
    dir,
    kill: () => killChild(child),
    async start() {
      child = await spawnOnce(port, dir, options);
    },
    async restart() {
      await own.kill();
      await own.start();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async stop() {
      await killChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return own;
}
