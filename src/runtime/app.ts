import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { isTrustgateError, TrustgateError } from '../errors/errors.ts';
import { sendError } from '../server/send-error.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { EnforcePullAuth } from '../pullauth/middleware.ts';
import { createConsoleRouter, tokenEndpointOrigin } from '../console/index.ts';
import { createRegistryHandler, isRegistryPath, type RegistryDeps } from '../pull/registry-handler.ts';
import { parseRoute } from '../oci/route.ts';
import { requestIds } from '../server/request-id.ts';
import { pathOf } from '../server/route-template.ts';

/** What the registry handler takes, plus the express side: the admin API and pull auth's /token. */
export interface AppDeps extends Omit<RegistryDeps, 'pullAuth'> {
  /** The admin API, mounted at /admin/v1 when configured. */
  readonly admin?: express.Router;
  /** Where the console bundle is (default: the package's dist/admin-ui/); served at /admin/ui with the admin API. */
  readonly consoleDir?: string;
  /** Pull-side access control, when `pullAuth` is configured: GET /token, and bearer tokens on /v2. */
  readonly pullAuth?: {
    readonly router: express.Router;
    readonly enforce: EnforcePullAuth;
  };
}

/**
 * Builds the HTTP application; it never listens: main.ts (or a test) does. Pulls (`/v2/...`) go
 * straight to the registry handler; express serves the rest (admin API, /token, /metrics).
 */
export function createApp(deps: AppDeps): RequestListener {
  const registry = createRegistryHandler({ ...deps, pullAuth: deps.pullAuth?.enforce });
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

  if (deps.admin !== undefined) {
    app.use('/admin/v1', deps.admin);
    // The security console (docs/console.md), only beside the API; its CSP lets it reach the OIDC token endpoint.
    app.use('/admin/ui', createConsoleRouter(deps.consoleDir, { tokenOrigin: tokenEndpointOrigin(deps.config.admin) }));
  }
  app.use('/admin', () => {
    throw new TrustgateError('NAME_UNKNOWN', 'no such admin endpoint (is the admin API configured?)');
  });
  if (deps.pullAuth !== undefined) app.use(deps.pullAuth.router);
  app.use((req: Request) => {
    parseRoute(req.method, req.path); // throws the registry's "no such endpoint" error
    throw new TrustgateError('NAME_UNKNOWN', 'no such endpoint');
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (!isTrustgateError(error)) deps.logger.error({ event: 'internal_error', err: error, path: req.path }, 'unexpected error');
    sendError(res, error, req.method === 'HEAD');
  });
  return (req, res) => {
    if (isRegistryPath(pathOf(req.url))) registry(req, res);
    else app(req, res);
  };
}

const FIXED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** Times every request express serves; a handler may name its route template in res.locals.route. */
function timing(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on('finish', () => {
      const route =
        typeof res.locals['route'] === 'string'
          ? res.locals['route']
          : FIXED_ROUTES.has(req.path)
            ? req.path
            : req.path.startsWith('/admin/')
              ? '/admin/v1'
              : 'other';
      metrics.requestDuration(route, req.method, (performance.now() - started) / 1000);
    });
    next();
  };
}
