import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config/types.ts';
import { isTrustgateError, TrustgateError } from './errors/errors.ts';
import { sendError } from './errors/http.ts';
import { blobDenied, checkSource, denialError, denySource, type Gate } from './gate/index.ts';
import type { Logger } from './log/logger.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { ManifestCache } from './proxy/manifest-cache.ts';
import { serveManifest } from './proxy/manifests.ts';
import { serveReferrers } from './proxy/referrers.ts';
import { parseRoute } from './proxy/route.ts';
import { resolveSource, type Source } from './proxy/source.ts';
import { serveTags, singleQuery } from './proxy/tags.ts';
import type { Upstreams } from './proxy/upstreams.ts';
import { requestIdOf, requestIds } from './server/request-id.ts';

export interface AppDeps {
  readonly config: Config;
  readonly upstreams: Upstreams;
  readonly gate: Gate;
  readonly manifestCache: ManifestCache;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The admin API, mounted at /admin/v1 when configured. */
  readonly admin?: express.Router;
  /** Pull-side access control (GET /token, bearer tokens on /v2), when `pullAuth` is configured. */
  readonly pullAuth?: express.Router;
}

const PING_BODY = '{}';

/** Builds the HTTP application. It never listens: main.ts (or a test) does. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(requestIds); // the listener's front has usually assigned it already; tests call the app directly

  app.use(timing(deps.metrics));
  app.get('/metrics', async (_req, res) => {
    res.locals['route'] = '/metrics';
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.end(await deps.metrics.registry.metrics());
  });

  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });

  if (deps.admin !== undefined) app.use('/admin/v1', deps.admin);
  app.use('/admin', () => {
    throw new TrustgateError('NAME_UNKNOWN', 'no such admin endpoint (is the admin API configured?)');
  });
  if (deps.pullAuth !== undefined) app.use(deps.pullAuth);

  app.use(async (req: Request, res: Response) => {
    // distribution-spec: clients look for this header on every /v2/ answer.
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    const route = parseRoute(req.method, req.path);
    res.locals['route'] = ROUTE_TEMPLATES[route.kind];
    if (route.kind === 'ping') {
      res.status(200).type('application/json').end(req.method === 'HEAD' ? undefined : PING_BODY);
      return;
    }
    if (route.kind === 'manifest') res.on('finish', () => deps.metrics.manifestRequest(req.method, String(res.locals['upstream'] ?? 'none'), res.statusCode));
    const source = sourceFor(req, res, route.name, deps, route.kind === 'manifest');
    const { client, blobs } = deps.upstreams.get(source.upstream.name);
    switch (route.kind) {
      case 'manifest':
        return serveManifest(req, res, source, route.reference, {
          client,
          cache: deps.manifestCache,
          maxBytes: deps.config.manifests.maxBytes,
          gate: deps.gate,
          logger: deps.logger,
          metrics: deps.metrics,
        });
      case 'blob':
        if (!(await deps.gate.allowsBlob(source.canonicalName, route.digest))) throw denialError(blobDenied(route.digest), source.canonicalName);
        return blobs.serve(req, res, source, route.digest);
      case 'tags':
        return serveTags(req, res, source, client);
      case 'referrers':
        return serveReferrers(req, res, source, route.digest, client);
    }
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (!isTrustgateError(error)) deps.logger.error({ event: 'internal_error', err: error, path: req.path }, 'unexpected error');
    sendError(res, error, req.method === 'HEAD');
  });
  return app;
}

/** Resolves and allowlists the source before anything goes upstream (DESIGN §1 "Sources"). */
function sourceFor(req: Request, res: Response, clientName: string, deps: AppDeps, isPull: boolean): Source {
  const ns = singleQuery(req, 'ns');
  const resolved = resolveSource(deps.config.upstreams, clientName, ns);
  if (!resolved.ok) {
    const denied = denySource(resolved.message);
    if (isPull) deps.metrics.decision(denied, 'none');
    throw denialError(denied, clientName);
  }
  res.locals['upstream'] = resolved.source.upstream.name;
  const denied = checkSource(resolved.source);
  if (denied !== undefined) {
    if (isPull) deps.metrics.decision(denied, resolved.source.upstream.name);
    deps.logger.info({ event: 'decision', name: resolved.source.canonicalName, outcome: 'deny', rule: denied.rule, reasons: ['source_not_allowed'], requestId: requestIdOf(req), clientAddress: req.ip }, 'source denied');
    throw denialError(denied, resolved.source.canonicalName);
  }
  // distribution-spec "Registry Proxying": echo the namespace the client asked for.
  if (ns !== undefined) res.setHeader('oci-namespace', ns);
  return resolved.source;
}

/** Route templates for metric labels: never an image name, tag or digest. */
const ROUTE_TEMPLATES = {
  ping: '/v2/',
  manifest: '/v2/<name>/manifests/<ref>',
  blob: '/v2/<name>/blobs/<digest>',
  tags: '/v2/<name>/tags/list',
  referrers: '/v2/<name>/referrers/<digest>',
} as const;

const FIXED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** Times every request; the handler names its route template in res.locals.route. */
function timing(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on('finish', () => {
      const route = typeof res.locals['route'] === 'string' ? res.locals['route'] : FIXED_ROUTES.has(req.path) ? req.path : req.path.startsWith('/admin/') ? '/admin/v1' : 'other';
      metrics.requestDuration(route, req.method, (performance.now() - started) / 1000);
    });
    next();
  };
}
