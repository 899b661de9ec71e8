import type { UpstreamConfig } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { UpstreamAuth } from './auth.ts';
import { withRetries, type Logger } from './retry.ts';
import { TokenCache } from './token-cache.ts';
import { createTransport } from './transport.ts';
import { discard, readCapped } from './capped-body.ts';
import { systemResolver, type AddressResolver } from './egress.ts';
import { createRedirects, isRedirect } from './redirect.ts';
import type { UpstreamClient, UpstreamRequest, UpstreamResponse } from './types.ts';

export interface UpstreamClientOptions {
  /** Clock for token expiry (epoch ms). */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Told after each exchange whether the upstream answered (false: unreachable, timed out, or 5xx). */
  readonly onOutcome?: (reachable: boolean) => void;
  /** Where connections go (egress.ts); the system resolver unless a test maps hosts to local fronts. */
  readonly resolver?: AddressResolver;
}

/** Headers trustgate sets itself or that only concern one hop. */
const DROPPED_HEADERS = new Set([
  'authorization',
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'te',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
]);
const PATH_SHAPE = /^\/v2\/[\x21-\x7e]*$/;
const PROBE_MAX_BYTES = 64 * 1024;
/** Failures that say the upstream itself is not answering (a too-large body, say, does not). */
const UNREACHABLE = new Set(['UPSTREAM_UNREACHABLE', 'UPSTREAM_TIMEOUT']);

export function createUpstreamClient(config: UpstreamConfig, options: UpstreamClientOptions = {}): UpstreamClient {
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const resolver = options.resolver ?? systemResolver;
  const transport = createTransport(config, resolver);
  const redirects = createRedirects(config, resolver);
  const auth = new UpstreamAuth({ config, transport, now, logger, cache: new TokenCache({ now }) });
  const base = new URL(config.url);
  const basePath = base.pathname.replace(/\/+$/, '');
  let probe: Promise<void> | undefined;

  async function exchange(request: UpstreamRequest, authorization: string | undefined): Promise<UpstreamResponse> {
    if (!PATH_SHAPE.test(request.path)) {
      throw new TrustgateError('INTERNAL', `refusing to send a malformed path to upstream ${JSON.stringify(config.name)}`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    if (authorization !== undefined) headers['authorization'] = authorization;
    const target = { method: request.method, origin: base.origin, path: basePath + request.path, headers, maxBytes: request.maxBytes };
    try {
      const response = await withRetries(() => transport.send(target), { config, logger });
      options.onOutcome?.(response.status < 500);
      return response;
    } catch (error) {
      options.onOutcome?.(!(error instanceof TrustgateError && UNREACHABLE.has(error.code)));
      throw error;
    }
  }

  /** `GET /v2/` once, to learn which challenge the upstream uses before we have seen a 401. */
  function discover(): Promise<void> {
    probe ??= (async () => {
      const response = await exchange({ method: 'GET', path: '/v2/', scope: '', maxBytes: PROBE_MAX_BYTES }, undefined);
      if (response.status === 401) auth.observe(response.headers['www-authenticate']);
    })().catch((error: unknown) => {
      probe = undefined;
      throw error;
    });
    return probe;
  }

  /**
   * An API answer that is a redirect (registry.k8s.io sends every /v2 request to a mirror) is
   * followed to `apiRedirects.allowedHosts` or the upstream's own origin, hop by hop, with the
   * same checks as blob redirects; credentials go only to the upstream's own origin.
   */
  async function followApiRedirect(
    answer: UpstreamResponse,
    request: UpstreamRequest,
    sent: string | undefined,
  ): Promise<UpstreamResponse> {
    const location = answer.headers['location'];
    if (request.redirects === 'return' || !isRedirect(answer.status, location)) return answer;
    const from = new URL(basePath + request.path, base.origin);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    const followed = await redirects.follow(location, from, { kind: 'api', method: request.method, headers, authorization: sent });
    if (request.method === 'HEAD') {
      await discard(followed.body);
      return { status: followed.status, headers: followed.headers, body: Buffer.alloc(0) };
    }
    const body = await readCapped(followed.body, followed.headers['content-length'], request.maxBytes, config.name);
    return { status: followed.status, headers: followed.headers, body };
  }

  return {
    config,

    redirects,

    async request(request) {
      const sent = await auth.header(request.scope);
      const first = await exchange(request, sent);
      if (first.status !== 401) return followApiRedirect(first, request, sent);
      const retryWith = await auth.answer(first.headers['www-authenticate'], request.scope, sent);
      if (retryWith === undefined) return first;
      return followApiRedirect(await exchange(request, retryWith), request, retryWith);
    },

    async authorization(scope) {
      if (!auth.settled) await discover();
      return auth.header(scope);
    },

    invalidate(scope) {
      auth.invalidate(scope);
    },

    close: async () => {
      await Promise.all([transport.close(), redirects.close()]);
    },
  };
}
