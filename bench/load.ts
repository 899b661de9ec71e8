// Runs the load generator and parses its output. wrk for GET; hey for HEAD
// (see wrk.ts). Installs either, and nginx (the reverse proxy the harness
// compares with), from Debian when it is missing.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { onCleanup } from './cleanup.ts';
import { HEY_BIN, heyArgs, parseHey } from './hey.ts';
import { pinned } from './pinning.ts';
import type { LoadResult, LoadSettings } from './types.ts';
import { parseWrk, WRK_BIN, wrkArgs } from './wrk.ts';

export type LoadTool = 'wrk' | 'hey';
/** Debian packages the bench needs beyond `scripts/ensure-packages.sh`'s: the load generators and nginx. */
export type BenchTool = LoadTool | 'nginx';

export interface LoadRequest {
  method: 'GET' | 'HEAD';
  url: string;
  headers: Record<string, string>;
}

export const NGINX_BIN = '/usr/sbin/nginx';
const BIN: Record<BenchTool, string> = { wrk: WRK_BIN, hey: HEY_BIN, nginx: NGINX_BIN };

export const toolFor = (method: LoadRequest['method']): LoadTool => (method === 'HEAD' ? 'hey' : 'wrk');

/** Installs the Debian package of each missing tool (needs root), saying so. */
export async function ensureTools(tools: Iterable<BenchTool>): Promise<void> {
  for (const tool of new Set(tools)) {
    if (existsSync(BIN[tool])) continue;
    const command = `apt-get update -qq && apt-get install -y -qq ${tool}`;
    process.stderr.write(`bench: ${BIN[tool]} is missing; installing it: ${command}\n`);
    if (process.getuid?.() !== 0) throw new Error(`${BIN[tool]} is missing and this is not root: run \`${command}\` as root`);
    const child = spawn('sh', ['-c', command], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0 || !existsSync(BIN[tool])) throw new Error(`installing ${tool} failed (exit ${code})`);
  }
}

/** "wrk 4.1.0-3+b2": the Debian package version. */
export async function packageVersion(pkg: string): Promise<string> {
  const { stdout } = await promisify(execFile)('dpkg-query', ['-W', '-f', '${Version}', pkg]).catch(() => ({ stdout: '?' }));
  return `${pkg} ${stdout.trim()}`;
}

/** Runs the load generator once against one URL and returns its parsed figures. */
export async function runLoad(
  request: LoadRequest,
  settings: LoadSettings,
  scriptDir: string,
  durationSec = settings.durationSec,
): Promise<LoadResult> {
  const tool = toolFor(request.method);
  const toolArgs =
    tool === 'wrk'
      ? await wrkArgs(request, settings.connections, durationSec, scriptDir, settings.wrkThreads)
      : heyArgs(request, settings.connections, durationSec);
  const [bin, args] = pinned(settings.cpu, BIN[tool], toolArgs);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = onCleanup(tool, () => {
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(unregister);
  if (code !== 0) throw new Error(`${tool} exited ${code} on ${request.method} ${request.url}:\n${stdout}${stderr}`);
  return tool === 'wrk' ? parseWrk(stdout) : parseHey(stdout);
}
