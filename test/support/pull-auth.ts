import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Logger } from '../../src/log/logger.ts';
import type { HarnessOptions } from './app-harness.ts';
import { startProxy, type RunningProxy } from './proxy-server.ts';

/** A P-256 signing key made at test time (PKCS#8 PEM), written to `dir/<name>`. */
export function writeSigningKey(dir: string, name = 'pull-signing.pem', curve = 'P-256'): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const file = join(dir, name);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return file;
}

/** A logger that keeps every record as one JSON line, to look for secrets in. */
export interface CapturingLogger extends Logger {
  readonly lines: string[];
}

export function capturingLogger(): CapturingLogger {
  const lines: string[] = [];
  const keep = (level: string) => (record: object, message?: string) => void lines.push(JSON.stringify({ level, ...record, msg: message }));
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** startProxy with a logger of the test's choosing (trustgate wired as main.ts wires it). */
export function startLoggedProxy(yaml: string, logger: Logger, options: HarnessOptions = {}): Promise<RunningProxy> {
  return startProxy(yaml, options, logger);
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP request, optionally from another loopback address (127.0.0.0/8), so tests can be "other clients". */
export function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.from === undefined ? {} : { localAddress: options.from }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The pull token for `scopes`, from `proxy`'s /token, or the failed call. */
export async function tokenFor(
  proxyUrl: string,
  user: string,
  password: string,
  scopes: readonly string[],
  from?: string,
): Promise<CallResult> {
  const query = new URLSearchParams([['service', '127.0.0.1'], ...scopes.map((s): [string, string] => ['scope', s])]);
  return call(`${proxyUrl}/token?${query}`, { headers: { authorization: basic(user, password) }, ...(from === undefined ? {} : { from }) });
}
