// A switchable front for a real `docker-registry` (test/kit/registry.ts): it relays every request to
// the registry, logs it, and can stand in for an upstream that misbehaves: stopped (connections
// refused, as when the registry is down), a blob body with one byte flipped (a hostile or broken
// registry), or a blob hidden from some repositories (404, as for a private layer another
// repository does not have). trustgate is given the front's URL; the registry itself stays up.
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
}

export interface RegistrySwitch {
  readonly url: string;
  readonly host: string;
  /** Requests that reached the front while it was listening, in order. */
  readonly log: LoggedRequest[];
  /** Blob digests whose GET bodies get one byte flipped. */
  readonly tamper: Set<string>;
  /** Repositories for which every blob request answers 404 BLOB_UNKNOWN. */
  readonly hideBlobsIn: Set<string>;
  /** Stops listening and cuts open connections: the upstream is unreachable (connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha(?:256|512):[a-f0-9]+)$/;

export async function startRegistrySwitch(registryUrl: string): Promise<RegistrySwitch> {
  const target = new URL(registryUrl);
  const log: LoggedRequest[] = [];
  const tamper = new Set<string>();
  const hideBlobsIn = new Set<string>();
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    log.push({ method: req.method ?? 'GET', path });
    const blob = BLOB_PATH.exec(path.split('?')[0]!);
    if (blob !== null && hideBlobsIn.has(blob[1]!)) {
      const body = JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const flip = blob !== null && req.method === 'GET' && tamper.has(blob[2]!);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let first = flip;
        answer.on('data', (chunk: Buffer) => {
          if (first && chunk.length > 0) {
            const copy = Buffer.from(chunk);
            copy[0] = copy[0]! ^ 0xff;
            chunk = copy;
            first = false;
          }
          res.write(chunk);
        });
        answer.on('end', () => res.end());
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  let server: Server | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    server = createServer(handle);
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await start();
  const host = `127.0.0.1:${port}`;
  return { url: `http://${host}`, host, log, tamper, hideBlobsIn, stop, start, close: stop };
}
