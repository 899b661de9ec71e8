// nginx (Debian `nginx`) as a plain reverse proxy in front of the registry: the
// peer trustgate is compared with. The harness writes its own nginx.conf in a
// temp dir and runs nginx from there (`-p <dir> -c <conf>`), in the foreground,
// as the user running the bench, so it needs no root-owned path: pid file,
// error log and every temp path live in that dir. Configured as an operator
// would for a registry (#15): one worker per CPU, keep-alive to the registry,
// and streaming (proxy_buffering off), so nginx neither spools blobs to disk
// nor holds them in buffers.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/kit/index.ts';
import { onCleanup } from './cleanup.ts';
import { NGINX_BIN } from './load.ts';
import { pinned } from './pinning.ts';
import { collectOutput, stopProcess, waitForOk } from './processes.ts';

export interface RunningNginx {
  url: string;
  /** The master's pid; the worker is its child. */
  pid: number;
  /** undefined while nginx runs; else why it stopped and its last output. */
  exited(): string | undefined;
}

/** nginx.conf for a reverse proxy on 127.0.0.1:port in front of `upstream` (host:port). */
export function nginxConf(dir: string, port: number, upstream: string): string {
  const path = (name: string): string => JSON.stringify(join(dir, name)); // a JSON string is a valid nginx quoted string here
  // As root, nginx would switch its worker to "nobody", which cannot enter the temp dir: keep the bench's user.
  const user = process.getuid?.() === 0 ? [`user ${userInfo().username};`] : [];
  return [
    '# Written by the trustgate bench (bench/nginx.ts) for one run.',
    'daemon off;',
    'worker_processes auto;',
    ...user,
    `pid ${path('nginx.pid')};`,
    `error_log ${path('error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${path('client_body')};`,
    `  proxy_temp_path ${path('proxy_temp')};`,
    `  fastcgi_temp_path ${path('fastcgi_temp')};`,
    `  uwsgi_temp_path ${path('uwsgi_temp')};`,
    `  scgi_temp_path ${path('scgi_temp')};`,
    '  client_max_body_size 0;',
    '  upstream registry {',
    `    server ${upstream};`,
    '    keepalive 64;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location / {',
    '      proxy_pass http://registry;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $http_host;',
    '      proxy_buffering off;',
    '      proxy_request_buffering off;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The end of nginx's error log (where it reports a port already in use). */
function errorLogTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').slice(-4096);
  } catch {
    return '';
  }
}

/** Starts nginx in front of the registry, pinned to `cpu` (with the registry and trustgate). */
export async function startNginx(workDir: string, registryHost: string, cpu: string | undefined): Promise<RunningNginx> {
  const dir = join(workDir, 'nginx');
  await mkdir(dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    await writeFile(conf, nginxConf(dir, port, registryHost));
    const [bin, args] = pinned(cpu, NGINX_BIN, ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log')]);
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed = collectOutput(child);
    const output = (): string => `${printed()}\n${errorLogTail(dir)}`.trim();
    let exit: string | undefined;
    child.once('exit', (code, signal) => {
      exit = `nginx exited (${code ?? signal})`;
    });
    child.once('error', (error) => {
      exit = `nginx could not start: ${error.message}`;
    });
    const unregister = onCleanup('nginx', () => stopProcess(child));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForOk('nginx', `${url}/v2/`, child, output);
      return { url, pid: child.pid!, exited: () => (exit === undefined ? undefined : `${exit}:\n${output()}`) };
    } catch (error) {
      await stopProcess(child);
      unregister();
      if (attempt >= 3 || !/EADDRINUSE|address already in use/i.test(String(error))) throw error;
    }
  }
}
