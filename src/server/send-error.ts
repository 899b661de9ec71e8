import type { ServerResponse } from 'node:http';
import { toHttpError } from '../errors/http.ts';

/** Writes an error to a response that has not started; a started one can only be cut off. */
export function sendError(res: ServerResponse, error: unknown, isHead: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const http = toHttpError(error);
  res.writeHead(http.status, { ...http.headers, 'content-length': Buffer.byteLength(http.body) });
  res.end(isHead ? undefined : http.body);
}
