import { Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { Agent as HttpsAgent } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { createProxyMiddleware, proxyEventsPlugin, type RequestHandler } from 'http-proxy-middleware';
import { TrustgateError } from '../errors/errors.ts';
import { sendError } from '../server/send-error.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { copyBlobHeaders } from '../upstream/blob-headers.ts';
import { pullScope } from './manifest-fetch.ts';
import { isRedirect } from '../upstream/redirect.ts';
import { pinnedCreateConnection, systemResolver, type AddressResolver } from '../upstream/egress.ts';
import type { Source } from '../upstream/source.ts';
import { upstreamError, upstreamFailure } from '../upstream/upstream-answer.ts';

/**
 * Client headers that may reach the upstream on a blob request; credentials, cookies and framing
 * never do (no Content-Length or Transfer-Encoding: a GET or HEAD trustgate sends has no body).
 */
const FORWARDED = new Set(['range', 'if-range', 'accept', 'user-agent']);

interface Forward {
  readonly path: string;
  readonly scope: string;
  readonly authorization: string | undefined;
}

/**
 * What may sit between a whole (200) upstream answer and the client: the verified cache's fill
 * (pull/cached-blobs.ts), which hashes and stores the bytes as they stream and cuts the stream when
 * they do not match the digest. Called once the upstream's headers are in; undefined: plain stream.
 */
export type BlobTap = (headers: IncomingHttpHeaders) => Transform | undefined;

export interface BlobProxy {
  serve(req: IncomingMessage, res: ServerResponse, source: Source, digest: Digest, tap?: BlobTap): Promise<void>;
  close(): void;
}

/**
 * Blobs stream through http-proxy-middleware and are never buffered (docs/design.md §1 "Blobs"). One proxy
 * and one keep-alive agent per upstream, capped at the upstream's concurrency limit.
 */
export function createBlobProxy(
  client: UpstreamClient,
  logger: Logger,
  metrics?: Metrics,
  resolver: AddressResolver = systemResolver,
  /** What each blob request found the upstream to be (upstream/outcomes.ts): fail static needs to know an outage from blobs too. */
  onOutcome: (reachable: boolean) => void = () => {},
): BlobProxy {
  const upstream = client.config;
  const forwards = new WeakMap<IncomingMessage, Forward>();
  const timedOut = new WeakSet<IncomingMessage>();
  const started = new WeakMap<IncomingMessage, number>();
  const taps = new WeakMap<IncomingMessage, BlobTap>();
  // For the one retry after a stale pooled socket (retryable below): the request in flight upstream,
  // what its socket had read before it, whether the upstream answered, and whether it was retried.
  const attempts = new WeakMap<IncomingMessage, Attempt>();
  const agentOptions = { keepAlive: true, maxSockets: upstream.maxConcurrentRequests, ...upstream.tls };
  const secure = upstream.url.startsWith('https:');
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  // Connections go to the address resolved once for them (upstream/egress.ts), as the client's do.
  (agent as unknown as { createConnection: unknown }).createConnection = pinnedCreateConnection(
    { resolver, tls: upstream.tls, timeoutMs: upstream.timeouts.connectMs },
    secure,
  );

  const proxy: RequestHandler<IncomingMessage, ServerResponse> = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: upstream.url,
    changeOrigin: true,
    agent,
    selfHandleResponse: true,
    // Only the plugin that wires `on`: errors are answered as OCI errors below, and logging is ours.
    ejectPlugins: true,
    plugins: [proxyEventsPlugin],
    proxyTimeout: Math.max(upstream.timeouts.headersMs, upstream.timeouts.bodyIdleMs),
    pathRewrite: (_path, req) => forwards.get(req)?.path ?? '/v2/',
    on: {
      proxyReq(proxyReq, req) {
        // Headers are filtered in serve(), not here: http-proxy emits this once a socket is free, and
        // with every pooled socket busy the request's headers are already flushed by then.
        // http-proxy aborts on proxyTimeout and reports a plain ECONNRESET; remember why.
        proxyReq.once('timeout', () => timedOut.add(req));
        const attempt = attempts.get(req);
        if (attempt !== undefined) {
          attempt.request = proxyReq;
          attempt.answered = false;
          // http-proxy emits proxyReq from the request's 'socket' event: the socket is there, and
          // what it has read so far belongs to the answers before this one.
          attempt.readBefore = proxyReq.socket?.bytesRead;
        }
      },
      proxyRes(proxyRes, req, res) {
        const attempt = attempts.get(req);
        if (attempt !== undefined) attempt.answered = true;
        void answer(proxyRes, req, res).catch((error: unknown) => sendError(res, error, req.method === 'HEAD'));
      },
      error(error, req, res) {
        if ('writeHead' in res && retryable(error, req, res)) {
          // The upstream closed an idle keep-alive connection just as this request went out on it
          // (a race every pooled client has): nothing was answered, so the GET or HEAD goes once more.
          logger.info(
            { event: 'upstream_stale_socket', upstream: upstream.name },
            'blob upstream reset a reused connection; retrying once',
          );
          attempts.get(req)!.retried = true;
          void proxy(req, res).catch((retryError: unknown) => sendError(res, retryError, req.method === 'HEAD'));
          return;
        }
        const failure = timedOut.has(req)
          ? new TrustgateError(
              'UPSTREAM_TIMEOUT',
              `upstream "${upstream.name}" did not answer within ${Math.max(upstream.timeouts.headersMs, upstream.timeouts.bodyIdleMs)} ms`,
            )
          : new TrustgateError(
              'UPSTREAM_UNREACHABLE',
              `upstream "${upstream.name}" is unreachable (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
            );
        logger.warn({ event: 'upstream_error', upstream: upstream.name, code: (error as NodeJS.ErrnoException).code }, 'blob proxy error');
        metrics?.upstreamError(upstream.name, timedOut.has(req) ? 'timeout' : 'unreachable');
        onOutcome(false);
        if ('writeHead' in res) sendError(res, failure, req.method === 'HEAD');
      },
    },
  });

  /**
   * A request is sent again only when all of these hold: GET or HEAD; not retried yet; not timed out;
   * the socket was a reused keep-alive one; it was reset (ECONNRESET, or EPIPE while writing) before any
   * byte of the answer came back (no response event, and the socket read nothing since it was handed
   * this request); and nothing has gone to the client. Never after headers, never on a fresh socket.
   */
  function retryable(error: Error, req: IncomingMessage, res: ServerResponse): boolean {
    const attempt = attempts.get(req);
    const code = (error as NodeJS.ErrnoException).code;
    if (attempt === undefined || attempt.retried || attempt.answered || timedOut.has(req)) return false;
    if (code !== 'ECONNRESET' && code !== 'EPIPE') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const sent = attempt.request;
    if (sent === undefined || !sent.reusedSocket) return false;
    const socket = sent.socket;
    if (attempt.readBefore === undefined || socket === null || socket.bytesRead !== attempt.readBefore) return false;
    return !res.headersSent && !res.writableEnded && req.socket.destroyed !== true;
  }

  async function answer(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const status = proxyRes.statusCode ?? 502;
    onOutcome(status < 500);
    if (status === 200 || status === 206 || status === 304 || status === 416) {
      res.writeHead(status, copyBlobHeaders(proxyRes.headers));
      // Bytes are counted without a per-chunk listener (#15): the declared length once the whole body
      // went out, else what the client's socket took (headers included) for a stream cut short.
      const socket = res.socket;
      const before = socket?.bytesWritten ?? 0;
      const declared = Number(proxyRes.headers['content-length']);
      let bytes = 0;
      const through = status === 200 ? taps.get(req)?.(proxyRes.headers) : undefined;
      try {
        await (through === undefined ? pipeline(proxyRes, res) : pipeline(proxyRes, through, res));
        bytes = Number.isSafeInteger(declared) ? declared : (socket?.bytesWritten ?? before) - before;
      } catch (error) {
        bytes = Math.max(0, (socket?.bytesWritten ?? before) - before);
        throw error;
      } finally {
        metrics?.blobBytes(upstream.name, bytes);
        metrics?.upstreamRequest(upstream.name, 'blob', (performance.now() - (started.get(req) ?? performance.now())) / 1000);
      }
      return;
    }
    proxyRes.resume();
    const location = proxyRes.headers.location;
    if (isRedirect(status, location)) {
      const forward = forwards.get(req);
      const from = new URL(forward?.path ?? '/v2/', upstream.url);
      if (upstream.blobRedirects.mode === 'pass') {
        // Checked like a hop trustgate follows (host and addresses), then the client follows it and checks the digest.
        res.writeHead(307, { location: await client.redirects.forClient(location, from), 'content-length': '0' });
        res.end();
        return;
      }
      const range = req.headers.range;
      const followed = await client.redirects
        .follow(location, from, {
          kind: 'blob',
          method: req.method === 'HEAD' ? 'HEAD' : 'GET',
          headers: typeof range === 'string' ? { range } : {},
          authorization: forward?.authorization,
        })
        .catch((error: unknown) => {
          throw upstreamError(upstream.name, { thrown: error, timeouts: upstream.timeouts, storage: true });
        });
      if (followed.status !== 200 && followed.status !== 206) {
        followed.body.on('error', () => {});
        followed.body.destroy();
        throw upstreamError(upstream.name, { status: followed.status, headers: followed.headers, missing: 'BLOB_UNKNOWN', storage: true });
      }
      res.writeHead(followed.status, copyBlobHeaders(followed.headers));
      const through = followed.status === 200 ? taps.get(req)?.(followed.headers) : undefined;
      await (through === undefined ? pipeline(followed.body, res) : pipeline(followed.body, through, res));
      return;
    }
    if (status === 401) {
      const forward = forwards.get(req);
      if (forward !== undefined) client.invalidate(forward.scope);
    }
    throw upstreamFailure(upstream.name, status, undefined, 'BLOB_UNKNOWN', headersOf(proxyRes));
  }

  return {
    async serve(req, res, source, digest, tap) {
      // http-proxy pipes the client's request stream upstream. The registry handler refused every
      // request with body framing, so node's parser gives that stream no bytes; checked here again,
      // where the pipe happens, so no route can ever relay a client body (docs/integrity.md).
      if (
        req.headers['transfer-encoding'] !== undefined ||
        (req.headers['content-length'] ?? '0') !== '0' ||
        (req.method !== 'GET' && req.method !== 'HEAD')
      ) {
        throw new TypeError('blob proxy: a request with a body (or not GET/HEAD) reached the upstream pipe');
      }
      const scope = pullScope(source);
      const authorization = await client.authorization(scope);
      forwards.set(req, { path: `/v2/${source.repository}/blobs/${digest}`, scope, authorization });
      started.set(req, performance.now());
      if (tap !== undefined) taps.set(req, tap);
      attempts.set(req, { request: undefined, readBefore: undefined, answered: false, retried: false });
      req.headers = upstreamHeaders(req.headers, authorization); // http-proxy copies these into the upstream request
      await proxy(req, res);
    },
    close() {
      agent.destroy();
    },
  };
}

/** One blob request's current upstream attempt (see `retryable`). */
interface Attempt {
  request: ClientRequest | undefined;
  /** The socket's bytesRead when this attempt got it; undefined until then. */
  readBefore: number | undefined;
  answered: boolean;
  retried: boolean;
}

/** The client's headers that may reach the upstream, plus trustgate's own credentials for it. */
function upstreamHeaders(headers: IncomingMessage['headers'], authorization: string | undefined): IncomingMessage['headers'] {
  const kept: IncomingMessage['headers'] = {};
  for (const [name, value] of Object.entries(headers)) if (FORWARDED.has(name)) kept[name] = value;
  if (authorization !== undefined) kept.authorization = authorization;
  return kept;
}

function headersOf(message: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.headers)) if (typeof value === 'string') out[key] = value;
  return out;
}
