// A throwaway CNCF distribution registry (Debian `docker-registry`) on a free loopback port, with
// its config and storage in a directory the caller owns. For `trustgate demo`, never the proxy.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface LocalRegistry {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on right now (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  const configFile = join(dir, 'config.yml');
  writeFileSync(
    configFile,
    [
      '# written by trustgate demo',
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(dir, 'storage'))} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}", secret: ${randomBytes(16).toString('hex')} }`,
      '',
    ].join('\n'),
  );
  // REGISTRY_* variables override config keys; this registry takes only its own file.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_')));
  const child = spawn(REGISTRY_BIN, ['serve', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-8192));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let spawnFailed = false;
  child.once('error', (error) => {
    spawnFailed = true;
    output += `\n${String(error)}`;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => !spawnFailed && child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (!running()) break;
    const ok = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return { url, host: `127.0.0.1:${port}`, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`the registry did not start on ${url}: ${output.trim() || 'no output'}`);
}
