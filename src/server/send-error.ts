import type { ServerResponse } from 'node:http';
import { refusalWarning, toHttpError } from '../errors/http.ts';

/**
 * Writes an error to a response that has not started; a started one can only be cut off. A HEAD
 * gets no body, so a refusal's reason code and the request id go in a `Warning` (README "Pointing
 * clients at trustgate"): every refusal, whichever check made it, through this one place.
 */
export function sendError(res: ServerResponse, error: unknown, isHead: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = res.getHeader('x-request-id');
  const warning = isHead ? refusalWarning(error, typeof requestId === 'string' ? requestId : '') : undefined;
  if (warning !== undefined) res.setHeader('warning', warning);
  const http = toHttpError(error);
  res.writeHead(http.status, { ...http.headers, 'content-length': Buffer.byteLength(http.body) });
  res.end(isHead ? undefined : http.body);
}
