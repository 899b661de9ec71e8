// A "canary": a loopback server that trustgate must never reach. It counts TCP connections (so a
// TLS or CONNECT attempt counts too) and records every HTTP request it gets.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Canary {
  readonly url: string;
  /** host:port */
  readonly host: string;
  readonly port: number;
  /** `METHOD url` of every request seen. */
  readonly requests: string[];
  /** TCP connections accepted, whatever was sent on them. */
  connections(): number;
  close(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  const requests: string[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    // Answer like storage would, so a proxy that followed us would look like it worked.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 6 }).end('canary');
  });
  server.on('connection', () => void (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
