import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config/types.ts';
import { isTrustgateError, TrustgateError } from './errors/errors.ts';
import { sendError } from './errors/http.ts';
import { blobDenied, checkSource, denialError, denySource, type Gate } from './gate/index.ts';
import type { Logger } from './log/logger.ts';
import type { ManifestCache } from './proxy/manifest-cache.ts';
import { serveManifest } from './proxy/manifests.ts';
import { serveReferrers } from './proxy/referrers.ts';
import { parseRoute } from './proxy/route.ts';
import { resolveSource, type Source } from './proxy/source.ts';
import { serveTags, singleQuery } from './proxy/tags.ts';
import type { Upstreams } from './proxy/upstreams.ts';

export interface AppDeps {
  readonly config: Config;
  readonly upstreams: Upstreams;
  readonly gate: Gate;
  readonly manifestCache: ManifestCache;
  readonly logger: Logger;
  /** The admin API, mounted at /admin/v1 when configured. */
  readonly admin?: express.Router;
}

const PING_BODY = '{}';

/** Builds the HTTP application. It never listens: main.ts (or a test) does. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });

  if (deps.admin !== undefined) app.use('/admin/v1', deps.admin);
  app.use('/admin', () => {
    throw new TrustgateError('NAME_UNKNOWN', 'no such admin endpoint (is the admin API configured?)');
  });

  app.use(async (req: Request, res: Response) => {
    // distribution-spec: clients look for this header on every /v2/ answer.
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    const route = parseRoute(req.method, req.path);
    if (route.kind === 'ping') {
      res.status(200).type('application/json').end(req.method === 'HEAD' ? undefined : PING_BODY);
      return;
    }
    const source = sourceFor(req, res, route.name, deps);
    const { client, blobs } = deps.upstreams.get(source.upstream.name);
    switch (route.kind) {
      case 'manifest':
        return serveManifest(req, res, source, route.reference, {
          client,
          cache: deps.manifestCache,
          maxBytes: deps.config.manifests.maxBytes,
          gate: deps.gate,
          logger: deps.logger,
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
function sourceFor(req: Request, res: Response, clientName: string, deps: AppDeps): Source {
  const ns = singleQuery(req, 'ns');
  const resolved = resolveSource(deps.config.upstreams, clientName, ns);
  if (!resolved.ok) throw denialError(denySource(resolved.message), clientName);
  const denied = checkSource(resolved.source);
  if (denied !== undefined) {
    deps.logger.info({ event: 'decision', name: resolved.source.canonicalName, outcome: 'deny', rule: denied.rule, reasons: ['source_not_allowed'] }, 'source denied');
    throw denialError(denied, resolved.source.canonicalName);
  }
  // distribution-spec "Registry Proxying": echo the namespace the client asked for.
  if (ns !== undefined) res.setHeader('oci-namespace', ns);
  return resolved.source;
}
