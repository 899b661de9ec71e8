import { isTrustgateError } from '../errors/errors.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { Metrics, UpstreamErrorKind, UpstreamOp } from './metrics.ts';

/** Times every buffered upstream request and counts failures, without touching the client itself. */
export function instrumentClient(client: UpstreamClient, metrics: Metrics): UpstreamClient {
  const upstream = client.config.name;
  return {
    config: client.config,
    authorization: (scope) => client.authorization(scope),
    invalidate: (scope) => client.invalidate(scope),
    close: () => client.close(),
    redirects: {
      follow: (location, from, init) => counted(client.redirects.follow(location, from, init)),
      forClient: (location, from) => counted(client.redirects.forClient(location, from)),
      close: () => client.redirects.close(),
    },
    async request(request) {
      const started = performance.now();
      const op = opOf(request.path);
      try {
        const response = await client.request(request);
        if (response.status === 429) metrics.upstreamError(upstream, 'rate_limited');
        else if (response.status >= 500) metrics.upstreamError(upstream, 'bad_response');
        return response;
      } catch (error) {
        metrics.upstreamError(upstream, kindOf(error));
        throw error;
      } finally {
        metrics.upstreamRequest(upstream, op, (performance.now() - started) / 1000);
      }
    },
  };

  /** Redirect refusals and failures count like any upstream failure (kind `redirect_refused` for a refusal). */
  async function counted<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      metrics.upstreamError(upstream, kindOf(error));
      throw error;
    }
  }
}

function opOf(path: string): UpstreamOp {
  if (/\/manifests\/sha256-[0-9a-f]{64}\.(sig|att)$/.test(path) || path.includes('/referrers/'))
    return path.includes('/referrers/') ? 'referrers' : 'signature';
  if (path.includes('/manifests/')) return 'manifest';
  if (path.includes('/blobs/')) return 'blob';
  return 'tags';
}

function kindOf(error: unknown): UpstreamErrorKind {
  if (!isTrustgateError(error)) return 'bad_response';
  if (error.code === 'UPSTREAM_UNREACHABLE') return 'unreachable';
  if (error.code === 'UPSTREAM_TIMEOUT') return 'timeout';
  if (error.code === 'UPSTREAM_REDIRECT_REFUSED') return 'redirect_refused';
  if (error.code === 'TOOMANYREQUESTS') return 'rate_limited';
  return 'bad_response';
}
