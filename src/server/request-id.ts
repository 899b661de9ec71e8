import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A client's own id is kept only when it is a plain token: nothing to escape in logs or headers. */
const SANE = /^[A-Za-z0-9._-]{1,64}$/;
const ids = new WeakMap<IncomingMessage, string>();

/**
 * The request's id: the client's `X-Request-Id` when sane, else a new UUID. Decided once per
 * request (later calls return the same id) and set on the response, so every answer carries it,
 * OCI errors included (they are written with writeHead, which keeps headers already set).
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  let id = ids.get(req);
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    id = typeof given === 'string' && SANE.test(given) ? given : randomUUID();
    ids.set(req, id);
  }
  if (!res.headersSent) res.setHeader('x-request-id', id);
  return id;
}

/** The id assigned to this request, if any. */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return ids.get(req);
}

/** The same as a connect/express middleware. */
export function requestIds(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  assignRequestId(req, res);
  next();
}
