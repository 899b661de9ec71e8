import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { TrustgateError } from '../errors/errors.ts';
import { sendError } from './send-error.ts';
import type { HealthProvider } from '../health/report.ts';
import type { Logger } from '../log/logger.ts';
import { logAccess } from './access-log.ts';
import { pathOf } from './route-template.ts';
import { assignRequestId } from './request-id.ts';

export type Phase = 'starting' | 'ready' | 'stopping';

/**
 * What the listener runs in front of the app, from before the runtime exists until the process
 * exits: request ids and the access log on every request, `/healthz` (the process is alive) and
 * `/readyz` (503 `starting` until the app is swapped in, 200 with the health report while ready,
 * 503 `stopping` once shutdown began). Anything else before the app is ready gets a 503 OCI error.
 */
export interface Front {
  readonly handler: RequestListener;
  phase(): Phase;
  /** Swap the app in (ignored once stopping). */
  ready(app: RequestListener, health: HealthProvider): void;
  /** Shutdown began: /readyz answers 503, and every answer closes its connection. */
  stop(): void;
}

export function createFront(logger: Logger): Front {
  let phase: Phase = 'starting';
  let app: RequestListener | undefined;
  let health: HealthProvider | undefined;

  async function readyz(res: ServerResponse, head: boolean): Promise<void> {
    if (phase !== 'ready' || health === undefined) return json(res, 503, { status: phase }, head);
    let report: object = {};
    try {
      report = await health.report();
    } catch (error) {
      logger.error({ event: 'health_report_failed', err: String(error) }, 'health report failed');
    }
    // Dependencies never make the replica unready (docs/design.md §5); only shutdown can, meanwhile.
    if (phase !== 'ready') return json(res, 503, { status: phase }, head);
    json(res, 200, { status: 'ready', ...report }, head);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    logAccess(req, res, logger, assignRequestId(req, res));
    if (phase === 'stopping') res.setHeader('connection', 'close');
    const head = req.method === 'HEAD';
    const path = pathOf(req.url);
    if (path === '/healthz') return json(res, 200, { status: 'ok' }, head);
    if (path === '/readyz') return void readyz(res, head);
    if (app === undefined) {
      const why = phase === 'stopping' ? 'trustgate is shutting down' : 'trustgate is starting; retry shortly';
      return sendError(res, new TrustgateError('NOT_READY', why, { headers: { 'retry-after': '1' } }), head);
    }
    app(req, res);
  };

  return {
    handler,
    phase: () => phase,
    ready(nextApp, nextHealth) {
      if (phase === 'stopping') return;
      app = nextApp;
      health = nextHealth;
      phase = 'ready';
    },
    stop() {
      phase = 'stopping';
    },
  };
}

function json(res: ServerResponse, status: number, body: object, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}
