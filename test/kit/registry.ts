// Throwaway CNCF distribution registry (Debian `docker-registry`, v2.8) on a
// free loopback port with filesystem storage in a fresh temp dir. Never
// reuses the machine's own registry: own config, own port, own storage, and
// REGISTRY_* variables (which override config keys) are scrubbed from env.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bcryptHash } from './bcrypt.ts';
import { freePort } from './free-port.ts';
import { httpGet } from './http-get.ts';
import type { TlsFiles } from './tls.ts';
import type { TokenIssuer } from './token-issuer.ts';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export type RegistryAuth = { type: 'token'; issuer: TokenIssuer } | { type: 'htpasswd'; username: string; password: string };

export interface RegistryOptions {
  auth?: RegistryAuth;
  tls?: TlsFiles;
}

export interface RunningRegistry {
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, for image references */
  host: string;
  /** Temp dir holding config.yml, htpasswd and storage (removed by stop). */
  dir: string;
  /** Output of the registry so far (log level error, so usually empty). */
  logs(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const q = (s: string): string => JSON.stringify(s); // a JSON string is a valid YAML scalar

function configYaml(dir: string, port: number, options: RegistryOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(join(dir, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (options.tls) {
    lines.push('  tls:', `    certificate: ${q(options.tls.certFile)}`, `    key: ${q(options.tls.keyFile)}`);
  }
  const auth = options.auth;
  if (auth?.type === 'token') {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(auth.issuer.url)}`,
      `    service: ${q(auth.issuer.service)}`,
      `    issuer: ${q(auth.issuer.issuer)}`,
      `    rootcertbundle: ${q(auth.issuer.certFile)}`,
    );
  } else if (auth?.type === 'htpasswd') {
    lines.push('auth:', '  htpasswd:', '    realm: trustgate-test', `    path: ${q(join(dir, 'htpasswd'))}`);
  }
  return lines.join('\n') + '\n';
}

async function waitReady(url: string, child: ChildProcess, options: RegistryOptions, out: () => string): Promise<void> {
  const want = options.auth ? 401 : 200;
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`registry exited (${child.exitCode ?? child.signalCode}): ${out()}`);
    }
    try {
      const res = await httpGet(`${url}/v2/`, { caFile: options.tls?.caFile, timeoutMs: 1000 });
      if (res.status === want) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry at ${url} not ready: ${last}; output: ${out()}`);
}

async function startOnce(options: RegistryOptions): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-registry-'));
  const port = await freePort();
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, configYaml(dir, port, options));
  if (options.auth?.type === 'htpasswd') {
    await writeFile(join(dir, 'htpasswd'), `${options.auth.username}:${bcryptHash(options.auth.password)}\n`);
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const child = spawn(REGISTRY_BIN, ['serve', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-65536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  child.once('error', (err) => {
    output += `\nspawn error: ${String(err)}`;
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const host = `127.0.0.1:${port}`;
  const url = `${options.tls ? 'https' : 'http'}://${host}`;
  try {
    await waitReady(url, child, options, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, host, dir, logs: () => output, stop };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
      if (!/address already in use/i.test(String(err))) throw err; // only retry port races
    }
  }
  throw lastError;
}
