import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/types.ts';
import { denialError } from '../decision/denial.ts';
import { isTrustgateError, TrustgateError } from '../errors/errors.ts';
import { blobDenied } from '../gate/source-check.ts';
import type { Gate } from '../gate/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { parseRoute, type Route } from '../oci/route.ts';
import type { EnforcePullAuth } from '../pullauth/middleware.ts';
import { exchangeOf, singleQuery, type Exchange } from '../server/exchange.ts';
import { sendError } from '../server/send-error.ts';
import type { Source } from '../upstream/source.ts';
import type { ManifestCache } from './manifest-cache.ts';
import type { ManifestFetchOptions, StaticManifests } from './manifest-fetch.ts';
import { serveManifest } from './manifests.ts';
import { admit, preparePull, type Admission } from './prepare.ts';
import { serveReferrers } from './referrers.ts';
import type { DecisionReporter } from './report.ts';
import { serveSignatureBlob } from './signature-blob.ts';
import { serveTags } from './tags.ts';
import type { Upstreams } from './upstreams.ts';

export interface RegistryDeps {
  readonly config: Config;
  readonly upstreams: Upstreams;
  readonly gate: Gate;
  readonly manifestCache: ManifestCache;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Logs, meters and records every decision (pull/report.ts). */
  readonly reporter: DecisionReporter;
  /** Pull-side access control: authenticates (or throws the 401 challenge) and returns the grant check. */
  readonly pullAuth?: EnforcePullAuth | undefined;
  /** With `blobCache.failStatic`: manifests kept for, and recalled during, an upstream outage (pull/fail-static.ts). */
  readonly staticManifests?: StaticManifests | undefined;
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
 * no framework, so the per-pull work is the work that matters (BENCHMARKS.md). Every named route
 * goes through the pipeline's admission (pull/prepare.ts) before anything goes upstream.
 */
export function createRegistryHandler(deps: RegistryDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger, reporter } = deps;
  const fetchOptions = new Map<string, ManifestFetchOptions>();
  const fetchOptionsFor = (upstream: string): ManifestFetchOptions => {
    let found = fetchOptions.get(upstream);
    if (found === undefined) {
      found = {
        client: deps.upstreams.get(upstream).client,
        cache: deps.manifestCache,
        maxBytes: deps.config.manifests.maxBytes,
        staticCopy: deps.staticManifests,
      };
      fetchOptions.set(upstream, found);
    }
    return found;
  };

  async function handle(exchange: Exchange, timing: { route: string }, started: number): Promise<void> {
    const { res } = exchange;
    // distribution-spec: clients look for this header on every /v2/ answer.
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    refuseBody(exchange);
    const route = routeOf(exchange);
    const name = route instanceof Error || route.kind === 'ping' ? undefined : route.name;
    // With pull auth, even a request for no such route is challenged first.
    const authorize = deps.pullAuth !== undefined && isRegistryPath(exchange.path) ? await deps.pullAuth(exchange, name) : undefined;
    if (route instanceof Error) throw route;
    timing.route = ROUTE_TEMPLATES[route.kind];
    if (route.kind === 'ping') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', PING_BODY.length);
      res.statusCode = 200;
      res.end(exchange.isHead ? undefined : PING_BODY);
      return;
    }
    const ns = singleQuery(exchange, 'ns');
    const admitted = (source: Source): void => {
      exchange.upstream = source.upstream.name;
      // distribution-spec "Registry Proxying": echo the namespace the client asked for.
      if (ns !== undefined) exchange.res.setHeader('oci-namespace', ns);
    };
    if (route.kind === 'manifest') {
      const request = { name: route.name, ns, reference: route.reference, accept: exchange.req.headers.accept, client: exchange.client };
      const pull = await preparePull(request, deps.config.upstreams, authorize, fetchOptionsFor, admitted);
      if (!pull.ok) return refuse(exchange, route, pull, started);
      // Fail static: while the upstream is unreachable, a manifest from memory is held to the recalled one's rule too.
      const outage =
        deps.staticManifests !== undefined && pull.context.failStatic !== true && deps.upstreams.down(pull.source.upstream.name);
      const context = outage ? { ...pull.context, failStatic: true as const } : pull.context;
      const serving = { gate: deps.gate, reporter, staticCopy: deps.staticManifests };
      return serveManifest(exchange, { ...pull, context, reference: route.reference }, started, serving);
    }
    const admission = await admit(deps.config.upstreams, route.name, ns, authorize);
    if (!admission.ok) return refuse(exchange, route, admission, started);
    const { source } = admission;
    admitted(source);
    const upstream = deps.upstreams.get(source.upstream.name);
    switch (route.kind) {
      case 'blob': {
        const access = await deps.gate.blobAccess(source.canonicalName, route.digest);
        if (access.kind === 'stream') return upstream.blobs.serve(exchange.req, res, source, route.digest, access);
        const maxBytes = deps.config.gate.discovery.maxBlobBytes;
        const denied =
          access.kind === 'deny'
            ? blobDenied(route.digest)
            : await serveSignatureBlob(exchange, source, route.digest, access, upstream.client, maxBytes);
        if (denied === undefined) return;
        const where = { name: source.canonicalName, upstream: source.upstream.name };
        reporter.report(exchange, { decision: denied, route: 'blob', ...where, reference: undefined, digest: route.digest, started });
        throw denialError(denied, source.canonicalName);
      }
      case 'tags':
        return serveTags(exchange, source, upstream.client);
      case 'referrers':
        return serveReferrers(exchange, source, route.digest, upstream.client);
    }
  }

  /** A request refused before anything went upstream: reported like every decision, then the OCI error. */
  function refuse(
    exchange: Exchange,
    route: Exclude<Route, { kind: 'ping' }>,
    refused: Extract<Admission, { ok: false }>,
    started: number,
  ) {
    if (refused.upstream !== undefined) exchange.upstream = refused.upstream;
    const reference = route.kind === 'manifest' ? route.reference : undefined;
    const { decision, name, upstream } = refused;
    reporter.report(exchange, { decision, route: route.kind, name, upstream, reference, digest: undefined, started });
    throw denialError(decision, name);
  }

  return (req, res) => {
    const started = performance.now();
    const exchange = exchangeOf(req, res);
    const timing = { route: 'other' };
    res.once('finish', () => {
      metrics.requestDuration(timing.route, exchange.method, (performance.now() - started) / 1000);
      if (timing.route === ROUTE_TEMPLATES.manifest) metrics.manifestRequest(exchange.method, exchange.upstream ?? 'none', res.statusCode);
    });
    handle(exchange, timing, started).catch((error: unknown) => {
      if (!isTrustgateError(error)) logger.error({ event: 'internal_error', err: error, path: exchange.path }, 'unexpected error');
      sendError(res, error, exchange.isHead);
    });
  };
}
