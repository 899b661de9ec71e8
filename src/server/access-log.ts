import type { IncomingMessage, ServerResponse } from 'node:http';
import { logsAt, type Logger } from '../log/logger.ts';
import { routeTemplate } from './route-template.ts';

/**
 * One `access` line per request at debug level, when the response ends or the connection drops:
 * method, route template (never the image name), status, duration and request id. Headers are
 * never logged, so neither Authorization nor cookies can leak.
 */
export function logAccess(req: IncomingMessage, res: ServerResponse, logger: Logger, requestId: string): void {
  // When debug records are not written (the default level is info), nothing is: no route template (up to ten
  // regexes), no listeners, no closure per request (bench profile of #15).
  if (!logsAt(logger, 'debug')) return;
  const started = performance.now();
  const route = routeTemplate(req.url); // now: routers rewrite req.url while they run
  let logged = false;
  const done = (): void => {
    if (logged) return;
    logged = true;
    logger.debug(
      {
        event: 'access',
        method: req.method,
        route,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        requestId,
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      'request',
    );
  };
  res.once('finish', done);
  res.once('close', done);
}
