// A throwaway containerd (the Debian `containerd` package, 1.6.20 on Debian 12) for tests that pull
// through trustgate the way a node does. Nothing is shared with the machine's own containerd: its own
// root, state, sockets and config in a fresh temp dir, the CRI plugin off (a `ctr` client needs
// none of it), and no CONTAINERD_* or proxy variables from the environment. It runs in a process
// group of its own, and stop() kills the whole group, so nothing it started outlives the test.
//
// `ctr images pull` resolves and fetches in the ctr process itself (containerd 1.6 and 1.7; 2.x
// hands pulls to the daemon's transfer service unless `--local` is given), reading the registry
// hosts from `--hosts-dir <dir>/<host>/hosts.toml` exactly as CRI reads them from `config_path`.
// containerd needs root: it mounts and chowns under its root dir.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CONTAINERD_BIN = '/usr/bin/containerd';
export const CTR_BIN = '/usr/bin/ctr';

export interface CtrResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly args: readonly string[];
}

export interface PullOptions {
  /** The `--hosts-dir` root: `<hostsDir>/<host>/hosts.toml` (a port as `host:port` or `host_port_`). */
  readonly hostsDir: string;
  /** `ctr --debug`: the resolver's log on stderr, one `fetch response received` line per answer, with its URL and headers. */
  readonly debug?: boolean;
  readonly platform?: string;
  readonly timeoutMs?: number;
}

export interface RunningContainerd {
  /** containerd's pid, also its process group's id. */
  readonly pid: number;
  /** The gRPC socket (`ctr --address`). */
  readonly address: string;
  /** The temp dir holding config.toml, root, state and the sockets (removed by stop). */
  readonly dir: string;
  /** The containerd namespace every ctr call of this kit uses. */
  readonly namespace: string;
  /** containerd's own output so far. */
  logs(): string;
  /** `ctr --address <socket> --namespace <ns> <args>`; never throws on a failed run. */
  ctr(args: readonly string[], timeoutMs?: number): Promise<CtrResult>;
  /** `ctr images pull --hosts-dir <dir> --snapshotter native --platform <p> <ref>` (native: no overlayfs needed). */
  pull(ref: string, options: PullOptions): Promise<CtrResult>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the group: containerd and anything it started
  } catch {
    // already gone
  }
}

/** The environment without anything that would point containerd or ctr elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^CONTAINERD_/.test(k) || /^(https?|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

const q = (s: string): string => JSON.stringify(s); // a JSON string is a valid TOML basic string

// Plugins a ctr pull does not use: CRI (wants CNI and a node), snapshotters for other filesystems,
// tracing. Left on: content, metadata, images, leases, the native snapshotter, diff and the rest.
const DISABLED = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

function configToml(dir: string): string {
  return [
    'version = 2',
    `root = ${q(join(dir, 'root'))}`,
    `state = ${q(join(dir, 'state'))}`,
    `disabled_plugins = ${JSON.stringify(DISABLED)}`,
    '[grpc]',
    `  address = ${q(join(dir, 'containerd.sock'))}`,
    '[ttrpc]',
    `  address = ${q(join(dir, 'containerd.sock.ttrpc'))}`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(join(dir, 'opt'))}`,
    '',
  ].join('\n');
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<CtrResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: cleanEnv(), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr + (err && code === -1 ? `\n${err.message}` : ''), args });
    });
  });
}

/** Starts containerd in a fresh temp dir and waits until it answers `ctr version`. */
export async function startContainerd(): Promise<RunningContainerd> {
  if (process.getuid?.() !== 0) throw new Error('containerd needs root (it mounts and chowns under its root dir)');
  const dir = await mkdtemp(join(tmpdir(), 'tg-ctrd-')); // short: a unix socket path has at most 107 bytes
  await mkdir(join(dir, 'opt'));
  const configFile = join(dir, 'config.toml');
  await writeFile(configFile, configToml(dir));
  const address = join(dir, 'containerd.sock');
  const namespace = 'trustgate-test';

  const child = spawn(CONTAINERD_BIN, ['--config', configFile, '--log-level', 'info'], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a process group of its own, killed as one
  });
  live.add(child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-262144);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('error', (err) => {
    output += `\nspawn error: ${String(err)}`;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const ctr = (args: readonly string[], timeoutMs = 60_000): Promise<CtrResult> =>
    run(CTR_BIN, ['--address', address, '--namespace', namespace, ...args], timeoutMs);

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    killGroup(child, 'SIGKILL'); // anything left in the group after containerd itself exited
    live.delete(child);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`containerd exited (${child.exitCode ?? child.signalCode}): ${output}`);
    }
    const version = await ctr(['version'], 5000);
    if (version.code === 0 && /Server:/.test(version.stdout)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`containerd not ready: ${version.stderr}; output: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    pid: child.pid!,
    address,
    dir,
    namespace,
    logs: () => output,
    ctr,
    pull: (ref, options) =>
      ctr(
        [
          ...(options.debug ? ['--debug'] : []),
          'images',
          'pull',
          '--hosts-dir',
          options.hostsDir,
          '--snapshotter',
          'native',
          '--platform',
          options.platform ?? 'linux/amd64',
          ref,
        ],
        options.timeoutMs,
      ),
    stop,
  };
}

/**
 * Writes `<hostsDir>/<host>/hosts.toml` and returns the file. containerd looks for `<host>_<port>_`,
 * then `<host>:<port>`, then `_default`; this writes the `host:port` form (or `_default` as `host`).
 */
export async function writeHostsToml(hostsDir: string, host: string, toml: string): Promise<string> {
  const dir = join(hostsDir, host);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'hosts.toml');
  await writeFile(file, toml);
  return file;
}
