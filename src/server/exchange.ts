import type { IncomingMessage, ServerResponse } from 'node:http';
import { TrustgateError } from '../errors/errors.ts';
import type { ClientIdentity } from '../decision/decision.ts';
import { assignRequestId } from './request-id.ts';
import { pathOf } from './route-template.ts';

/**
 * One /v2 request as the registry handlers see it: node's own request and response (no framework
 * on the pull path, see BENCHMARKS.md) plus what trustgate learns while answering it.
 */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly isHead: boolean;
  /** The request path without the query, as sent (not decoded). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly requestId: string;
  /** The verified pull client, when pull authentication is on. */
  client: ClientIdentity | undefined;
  /** The upstream answering this request, once its source resolved (a metric label). */
  upstream: string | undefined;
}

const NO_QUERY: URLSearchParams = new URLSearchParams();

export function exchangeOf(req: IncomingMessage, res: ServerResponse): Exchange {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const method = req.method ?? 'GET';
  return {
    req,
    res,
    method,
    isHead: method === 'HEAD',
    path: pathOf(url),
    query: mark === -1 ? NO_QUERY : new URLSearchParams(url.slice(mark + 1)),
    requestId: assignRequestId(req, res),
    client: undefined,
    upstream: undefined,
  };
}

/** A query parameter that may appear at most once. */
export function singleQuery(exchange: Exchange, key: string): string | undefined {
  const values = exchange.query.getAll(key);
  if (values.length > 1) throw new TrustgateError('QUERY_INVALID', `query parameter "${key}" must appear once`);
  return values[0];
}

/** The peer's address (trustgate trusts no forwarding headers). */
export function clientAddressOf(exchange: Exchange): string | undefined {
  return exchange.req.socket.remoteAddress;
}

/** Sends a complete answer (status, headers already set by the caller, and body unless HEAD). */
export function answer(exchange: Exchange, status: number, body: string | Buffer | undefined): void {
  exchange.res.statusCode = status;
  exchange.res.end(exchange.isHead ? undefined : body);
}
