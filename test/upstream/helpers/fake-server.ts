import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly accept?: string | undefined;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>` (or https). */
  readonly origin: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** TCP connections accepted so far (TLS handshakes that fail still count). */
  readonly connections: () => number;
  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, server: FakeServer) => void | Promise<void>;

/** A real HTTP(S) server on 127.0.0.1 with an ephemeral port that records every request it gets. */
export async function startServer(handler: Handler, tls?: ServerOptions): Promise<FakeServer> {
  const requests: SeenRequest[] = [];
  let fake: FakeServer | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      ...(req.headers.accept === undefined ? {} : { accept: req.headers.accept }),
    });
    Promise.resolve(handler(req, res, fake as FakeServer)).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  };
  const server: Server = tls === undefined ? createHttpServer(listener) : createHttpsServer(tls, listener);
  let connections = 0;
  server.on('connection', () => void (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake = {
    connections: () => connections,
    origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    count: (prefix) => requests.filter((r) => r.path.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

/** A port nothing listens on (was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** startServer, closed when the test `t` ends. */
export async function serverFor(t: { after(fn: () => Promise<void>): void }, handler: Handler, tls?: ServerOptions): Promise<FakeServer> {
  const s = await startServer(handler, tls);
  t.after(() => s.close());
  return s;
}
