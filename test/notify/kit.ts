// A webhook receiver on loopback, a notifier config, and a logger that keeps what it is given.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secret } from '../../src/config/secret.ts';
import type { NotificationEndpointConfig, NotificationsConfig } from '../../src/config/types.ts';
import type { Logger } from '../../src/log/logger.ts';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent. */
  readonly body: Buffer;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** The status of each next answer, in order; 200 once they run out. */
  answers: (number | { status: number; headers: Record<string, string> })[];
  close(): Promise<void>;
}

export async function startReceiver(path = '/hooks/T000/B000/SECRETTOKEN'): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = {
    received,
    answers: [] as Receiver['answers'],
  } as Receiver & { server: Server };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const answer = receiver.answers.shift() ?? 200;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    server,
    port,
    url: `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export function endpointConfig(url: string, extra: Partial<NotificationEndpointConfig> = {}): NotificationEndpointConfig {
  return {
    name: 'ops',
    field: 'notifications.endpoints[0]',
    url: new Secret(url),
    secret: new Secret(SIGNING_SECRET),
    format: 'generic',
    events: ['*'],
    timeoutMs: 2_000,
    ...extra,
  };
}

/** Loopback allowed (the receivers live there), retries after 1 ms: tests wait on what arrives, never on time. */
export function notificationsConfig(
  endpoints: readonly NotificationEndpointConfig[],
  extra: Partial<Omit<NotificationsConfig, 'endpoints'>> = {},
): NotificationsConfig {
  return {
    endpoints,
    instance: 'test-replica',
    allowedNetworks: ['127.0.0.0/8'],
    queue: { maxPending: 10_000, maxAttempts: 8, backoffMs: 1, maxBackoffMs: 5 },
    denials: { windowMs: 600_000, maxKeys: 10_000 },
    keyExpiry: { warnDays: [14], checkIntervalMs: 3_600_000 },
    scanStall: { afterMs: 1_800_000, checkIntervalMs: 60_000 },
    ...extra,
  };
}

export interface LogLine {
  readonly level: string;
  readonly record: object;
  readonly message: string | undefined;
}

export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (record: object, message?: string) => void lines.push({ level, record, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Polls `done` every 10 ms; fails after `ms` (a bound on a hang, not a timing assertion). */
export async function until(done: () => boolean | Promise<boolean>, ms = 10_000, what = 'the condition'): Promise<void> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
