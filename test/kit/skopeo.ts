// Thin skopeo 1.9.3 wrappers: never throw on a failed run, return
// { code, stdout, stderr }. Every run is isolated from machine config: a
// private (empty) registries.conf via the hidden global --registries-conf
// flag, an empty --registries.d, an accept-anything --policy, and auth
// files (REGISTRY_AUTH_FILE, DOCKER_CONFIG, XDG_RUNTIME_DIR) in a temp dir.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Platform } from './oci-image.ts';

export const SKOPEO_BIN = 'skopeo';

export interface SkopeoResult {
  code: number;
  stdout: string;
  /** stdout exactly as written (use for `inspect --raw` digests). */
  stdoutBytes: Buffer;
  stderr: string;
  args: string[];
}

export interface RegistryOpts {
  /** Require HTTPS and verify certificates (default false: http or unverified https). */
  tlsVerify?: boolean;
  /** Directory with *.crt CA files (e.g. makeTls().dir). Implies nothing about tlsVerify. */
  certDir?: string;
  /** USER:PASSWORD */
  creds?: string;
  timeoutMs?: number;
}

let sandbox: { dir: string; globals: string[]; env: NodeJS.ProcessEnv } | undefined;

function isolation(): NonNullable<typeof sandbox> {
  if (sandbox) return sandbox;
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-skopeo-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'registries.d'));
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  mkdirSync(join(dir, 'docker'));
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'registries.conf'), '# empty: no mirrors, no search registries\n');
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(k)) delete env[k];
  Object.assign(env, {
    REGISTRY_AUTH_FILE: join(dir, 'run', 'auth.json'),
    DOCKER_CONFIG: join(dir, 'docker'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    TMPDIR: join(dir, 'tmp'),
  });
  const globals = [
    '--registries-conf',
    join(dir, 'registries.conf'),
    '--registries.d',
    join(dir, 'registries.d'),
    '--policy',
    join(dir, 'policy.json'),
    '--tmpdir',
    join(dir, 'tmp'),
  ];
  sandbox = { dir, globals, env };
  return sandbox;
}

/** Runs `skopeo <globals> <args>`; resolves with the exit code (-1 if killed/unspawnable). */
export function runSkopeo(args: string[], timeoutMs = 60_000): Promise<SkopeoResult> {
  const { globals, env } = isolation();
  const full = [...globals, '--command-timeout', `${Math.ceil(timeoutMs / 1000)}s`, ...args];
  return new Promise((resolve) => {
    execFile(
      SKOPEO_BIN,
      full,
      { env, timeout: timeoutMs + 5000, killSignal: 'SIGKILL', encoding: 'buffer', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        const errText = stderr.toString() + (err && code === -1 ? `\n${err.message}` : '');
        resolve({ code, stdout: stdout.toString(), stdoutBytes: stdout, stderr: errText, args: full });
      },
    );
  });
}

function regFlags(prefix: '' | 'src-' | 'dest-', o: RegistryOpts): string[] {
  const flags = [`--${prefix}tls-verify=${o.tlsVerify ?? false}`];
  if (o.certDir) flags.push(`--${prefix}cert-dir`, o.certDir);
  flags.push(...(o.creds ? [`--${prefix}creds`, o.creds] : [`--${prefix}no-creds`]));
  return flags;
}

/** skopeo copy --all --preserve-digests oci:<layoutDir> <ref> (ref: docker://host/repo:tag). */
export function push(layoutDir: string, ref: string, opts: RegistryOpts = {}): Promise<SkopeoResult> {
  return runSkopeo(
    ['copy', '--all', '--preserve-digests', '--retry-times', '0', ...regFlags('dest-', opts), `oci:${layoutDir}`, ref],
    opts.timeoutMs,
  );
}

export interface InspectOpts extends RegistryOpts {
  raw?: boolean;
  config?: boolean;
  noTags?: boolean;
}

export function inspect(ref: string, opts: InspectOpts = {}): Promise<SkopeoResult> {
  const args = ['inspect', '--retry-times', '0', ...regFlags('', opts)];
  if (opts.raw) args.push('--raw');
  if (opts.config) args.push('--config');
  if (opts.noTags) args.push('--no-tags');
  return runSkopeo([...args, ref], opts.timeoutMs);
}

export interface CopyOpts extends RegistryOpts {
  /** Copy every platform of an index (default: only the one matching `platform`/the host). */
  all?: boolean;
  /** Platform to pick from an index (global --override-os/--override-arch/--override-variant). */
  platform?: Platform;
}

/** skopeo copy <srcRef> <dest>; a bare path destination means `dir:<path>`. */
export function copy(srcRef: string, destDir: string, opts: CopyOpts = {}): Promise<SkopeoResult> {
  const dest = /^(dir|oci):/.test(destDir) ? destDir : `dir:${destDir}`;
  const pre: string[] = [];
  if (opts.platform) {
    pre.push('--override-os', opts.platform.os, '--override-arch', opts.platform.architecture);
    if (opts.platform.variant) pre.push('--override-variant', opts.platform.variant);
  }
  const args = [...pre, 'copy', '--retry-times', '0', ...regFlags('src-', opts)];
  if (opts.all) args.push('--all');
  return runSkopeo([...args, srcRef, dest], opts.timeoutMs);
}
