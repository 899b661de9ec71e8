import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/types.ts';
import { isTrustgateError, TrustgateError } from '../errors/errors.ts';
import { sendError } from '../server/send-error.ts';
import { blobDenied, checkSource, denySource } from '../gate/source-check.ts';
import { denialError } from '../decision/denial.ts';
import { type Gate } from '../gate/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { clientAddressOf, exchangeOf, singleQuery, type Exchange } from '../server/exchange.ts';
import type { ManifestCache } from './manifest-cache.ts';
import { serveManifest, type ManifestDeps } from './manifests.ts';
import { serveReferrers } from './referrers.ts';
import { serveSignatureBlob } from './signature-blob.ts';
import { parseRoute, type Route } from '../oci/route.ts';
import { resolveSource, type Source } from '../upstream/source.ts';
import { serveTags } from './tags.ts';
import type { Upstreams } from './upstreams.ts';

export interface RegistryDeps {
  readonly config: Config;
  readonly upstreams: Upstreams;
  readonly gate: Gate;
  readonly manifestCache: ManifestCache;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Pull-side access control: refuses (throws) or records the verified client on the exchange. */
  readonly pullAuth?: ((exchange: Exchange, route: Route | undefined) => Promise<void>) | undefined;
}

/** Route templates for metric labels: never an image name, tag or digest. */
const ROUTE_TEMPLATES: Record<Route['kind'], string> = {
  ping: '/v2/',
  manifest: '/v2/<name>/manifests/<ref>',
  blob: '/v2/<name>/blobs/<digest>',
  tags: '/v2/<name>/tags/list',
  referrers: '/v2/<name>/referrers/<digest>',
};

const PING_BODY = '{}';

/** The route, or the coded error that refuses the path (parsed once per request). */
function routeOf(exchange: Exchange): Route | Error {
  try {
    return parseRoute(exchange.method, exchange.path);
  } catch (error) {
    return error as Error;
  }
}

/**
 * The pull API takes no request body (distribution-spec: every pull is GET or HEAD). One with a
 * body is refused before anything goes upstream, and its connection closed, so no client byte can
 * ride along to an upstream connection (docs/integrity.md "Nothing from a client goes upstream").
 */
function refuseBody(exchange: Exchange): void {
  const { headers } = exchange.req;
  const length = headers['content-length'];
  if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
  exchange.res.shouldKeepAlive = false;
  exchange.res.setHeader('connection', 'close');
  throw new TrustgateError(
    'REQUEST_BODY_REFUSED',
    'registry requests to trustgate carry no body (Transfer-Encoding or a Content-Length other than 0 was sent)',
  );
}

export function isRegistryPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/**
 * The pull path (`/v2/...`, and any path nothing else claims): plain node request and response,
 * no framework, so the per-pull work is the work that matters (BENCHMARKS.md).
 */
export function createRegistryHandler(deps: RegistryDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = deps;
  const manifestDeps = new Map<string, ManifestDeps>();
  const manifestDepsFor = (upstream: string): ManifestDeps => {
    let found = manifestDeps.get(upstream);
    if (found === undefined) {
      found = {
        client: deps.upstreams.get(upstream).client,
        cache: deps.manifestCache,
        maxBytes: deps.config.manifests.maxBytes,
        gate: deps.gate,
        logger,
        metrics,
      };
      manifestDeps.set(upstream, found);
    }
    return found;
  };

  async function handle(exchange: Exchange, timing: { route: string }): Promise<void> {
    const { res } = exchange;
    // distribution-spec: clients look for this header on every /v2/ answer.
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    refuseBody(exchange);
    const route = routeOf(exchange);
    // With pull auth, even a request for no such route is challenged first.
    if (deps.pullAuth !== undefined && isRegistryPath(exchange.path))
      await deps.pullAuth(exchange, route instanceof Error ? undefined : route);
    if (route instanceof Error) throw route;
    timing.route = ROUTE_TEMPLATES[route.kind];
    if (route.kind === 'ping') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', PING_BODY.length);
      res.statusCode = 200;
      res.end(exchange.isHead ? undefined : PING_BODY);
      return;
    }
    const source = sourceFor(exchange, route.name, route.kind === 'manifest');
    const upstream = source.upstream.name;
    switch (route.kind) {
      case 'manifest':
        return serveManifest(exchange, source, route.reference, manifestDepsFor(upstream));
      case 'blob': {
        const access = await deps.gate.blobAccess(source.canonicalName, route.digest);
        if (access.kind === 'deny') throw denialError(blobDenied(route.digest), source.canonicalName);
        if (access.kind === 'check')
          return serveSignatureBlob(
            exchange,
            source,
            route.digest,
            access,
            deps.upstreams.get(upstream).client,
            deps.config.gate.discovery.maxBlobBytes,
          );
        return deps.upstreams.get(upstream).blobs.serve(exchange.req, res, source, route.digest);
      }
      case 'tags':
        return serveTags(exchange, source, deps.upstreams.get(upstream).client);
      case 'referrers':
        return serveReferrers(exchange, source, route.digest, deps.upstreams.get(upstream).client);
    }
  }

  /** Resolves and allowlists the source before anything goes upstream (docs/design.md §1 "Sources"). */
  function sourceFor(exchange: Exchange, clientName: string, isPull: boolean): Source {
    const ns = singleQuery(exchange, 'ns');
    const resolved = resolveSource(deps.config.upstreams, clientName, ns);
    if (!resolved.ok) {
      const denied = denySource(resolved.message);
      if (isPull) metrics.decision(denied, 'none');
      throw denialError(denied, clientName);
    }
    exchange.upstream = resolved.source.upstream.name;
    const denied = checkSource(resolved.source);
    if (denied !== undefined) {
      if (isPull) metrics.decision(denied, resolved.source.upstream.name);
      logger.info(
        {
          event: 'decision',
          name: resolved.source.canonicalName,
          outcome: 'deny',
          rule: denied.rule,
          reasons: ['source_not_allowed'],
          requestId: exchange.requestId,
          clientAddress: clientAddressOf(exchange),
        },
        'source denied',
      );
      throw denialError(denied, resolved.source.canonicalName);
    }
    // distribution-spec "Registry Proxying": echo the namespace the client asked for.
    if (ns !== undefined) exchange.res.setHeader('oci-namespace', ns);
    return resolved.source;
  }

  return (req, res) => {
    const started = performance.now();
    const exchange = exchangeOf(req, res);
    const timing = { route: 'other' };
    res.once('finish', () => {
      metrics.requestDuration(timing.route, exchange.method, (performance.now() - started) / 1000);
      if (timing.route === ROUTE_TEMPLATES.manifest) metrics.manifestRequest(exchange.method, exchange.upstream ?? 'none', res.statusCode);
    });
    handle(exchange, timing).catch((error: unknown) => {
      if (!isTrustgateError(error)) logger.error({ event: 'internal_error', err: error, path: exchange.path }, 'unexpected error');
      sendError(res, error, exchange.isHead);
    });
  };
}
