// Warming the blob path before the first pull (#15: a fresh trustgate's first 10 MiB GETs took
// 105–130 ms against 15–25 ms warm). A short burst of blob requests goes through a real blob proxy
// (pull/blobs.ts: http-proxy-middleware, the keep-alive agent, the pipeline to a real client socket)
// in front of a synthetic upstream in this process, so V8 has compiled the per-chunk and per-request
// code before the app is swapped in. Nothing here touches shared state: its own upstream client and
// agent, no metrics, no Redis, no audit, no verdicts, a silent logger; only loopback sockets it opens
// and closes itself.
import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamConfig } from '../config/types.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import type { Digest } from '../oci/reference.ts';
import { createBlobProxy } from '../pull/blobs.ts';
import { sendError } from '../server/send-error.ts';
import { createUpstreamClient } from '../upstream/index.ts';
import type { Source } from '../upstream/source.ts';

/** `TRUSTGATE_WARMUP=off` skips it (e.g. a test that starts many processes). */
export const WARMUP_ENV = 'TRUSTGATE_WARMUP';

export interface WarmupOptions {
  /** Upper bound on the whole warm-up, ms; it stops early once this is spent. */
  readonly budgetMs?: number;
  /** Blob GETs to send at most. */
  readonly requests?: number;
  /** Size of the synthetic blob. */
  readonly blobBytes?: number;
  /** Connections the requests share (several streams at once, as under load). */
  readonly connections?: number;
}

export interface WarmupResult {
  readonly ms: number;
  readonly requests: number;
  readonly bytes: number;
  readonly failed: number;
}

const DEFAULTS = { budgetMs: 1_000, requests: 200, blobBytes: 2 * 1024 * 1024, connections: 4 };
const REPOSITORY = 'warmup/blob';

/** Whether the environment asks to skip the warm-up. */
export function warmupDisabled(env: NodeJS.ProcessEnv): boolean {
  const value = env[WARMUP_ENV]?.trim().toLowerCase();
  return value === 'off' || value === '0' || value === 'false' || value === 'no';
}

/**
 * Runs the warm-up once and logs it at info; never rejects (a failure is logged at warn and the
 * start goes on: warming is an optimisation). Memory is bounded by one synthetic blob plus the
 * sockets' buffers; time by `budgetMs`.
 */
export async function warmUp(logger: Logger, options: WarmupOptions = {}): Promise<WarmupResult | undefined> {
  try {
    const result = await warmBlobPath({ ...DEFAULTS, ...options });
    logger.info({ event: 'warmup', ...result, ms: Math.round(result.ms) }, `blob path warmed up in ${Math.round(result.ms)} ms`);
    return result;
  } catch (error) {
    logger.warn({ event: 'warmup_failed', problem: String(error) }, 'blob path warm-up failed; starting without it');
    return undefined;
  }
}

async function warmBlobPath(options: Required<WarmupOptions>): Promise<WarmupResult> {
  const began = performance.now();
  const deadline = began + options.budgetMs;
  const blob = Buffer.alloc(options.blobBytes, 0x5a);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}` as Digest;
  const upstreamServer = await listenLoopback(syntheticRegistry(blob, digest));
  const upstream = syntheticUpstream(`http://127.0.0.1:${port(upstreamServer)}`, options.connections);
  const client = createUpstreamClient(upstream, { logger: noopLogger });
  const blobs = createBlobProxy(client, noopLogger);
  const source: Source = {
    upstream,
    repository: REPOSITORY,
    canonicalName: `127.0.0.1/${REPOSITORY}`,
    clientName: REPOSITORY,
    ns: undefined,
  };
  const front = await listenLoopback((req, res) => {
    blobs.serve(req, res, source, digest).catch((error: unknown) => sendError(res, error, req.method === 'HEAD'));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const path = `/v2/${REPOSITORY}/blobs/${digest}`;
  let sent = 0;
  let bytes = 0;
  let failed = 0;
  try {
    const worker = async (): Promise<void> => {
      while (sent < options.requests && performance.now() < deadline) {
        const n = sent++;
        // Mostly whole GETs (the hot path); a few HEADs and ranges for their branches.
        const method = n % 16 === 15 ? 'HEAD' : 'GET';
        const headers: Record<string, string> = n % 16 === 7 ? { range: 'bytes=0-65535' } : {};
        const got = await fetchDrained(agent, port(front), path, method, headers, deadline);
        if (got.ok) bytes += got.bytes;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    agent.destroy();
    blobs.close();
    await client.close();
    await Promise.all([closeServer(front), closeServer(upstreamServer)]);
  }
  return { ms: performance.now() - began, requests: sent, bytes, failed };
}

/** A registry that knows one blob: `/v2/` for the client's probe, then GET, HEAD and single ranges of it. */
function syntheticRegistry(blob: Buffer, digest: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range !== null) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), blob.length - 1);
      res.writeHead(206, {
        'content-type': 'application/octet-stream',
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${blob.length}`,
      });
      res.end(blob.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': digest });
    res.end(req.method === 'HEAD' ? undefined : blob);
  };
}

/** An upstream config for the synthetic registry only: anonymous, plain HTTP on loopback, no redirects. */
function syntheticUpstream(url: string, connections: number): UpstreamConfig {
  return {
    name: 'warmup',
    field: 'warmup',
    url,
    registryHost: '127.0.0.1',
    namespaces: ['127.0.0.1'],
    isDefault: false,
    allow: [],
    credentials: { type: 'anonymous' },
    tokenRealms: [],
    tls: {},
    timeouts: { connectMs: 1_000, headersMs: 2_000, bodyIdleMs: 2_000 },
    retries: 0,
    maxConcurrentRequests: connections,
    blobRedirects: { mode: 'pass', allowedHosts: [], allowedNetworks: [], maxHops: 0 },
    apiRedirects: { allowedHosts: [] },
  };
}

function fetchDrained(
  agent: Agent,
  frontPort: number,
  path: string,
  method: string,
  headers: Record<string, string>,
  deadline: number,
): Promise<{ ok: boolean; bytes: number }> {
  return new Promise((resolve) => {
    const timeout = Math.max(100, deadline - performance.now() + 500);
    const req = request({ host: '127.0.0.1', port: frontPort, path, method, headers, agent, timeout }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ ok: res.statusCode === 200 || res.statusCode === 206, bytes }));
      res.on('error', () => resolve({ ok: false, bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('warm-up request timed out')));
    req.on('error', () => resolve({ ok: false, bytes: 0 }));
    req.end();
  });
}

function listenLoopback(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
