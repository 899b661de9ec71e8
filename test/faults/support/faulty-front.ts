// A fault-injecting front for the real registry: every request is passed through to it unchanged,
// except those a test scripted a fault for. Faults that cut a response write raw bytes on the
// socket (a status line, the real headers, part of the real body) and then destroy it, exactly
// what a registry or load balancer dying mid-answer puts on the wire.
import { request, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Answer with this status (and headers), never reaching the registry. */
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { readonly kind: 'stall' }
  /** Hold the request until `release` settles, then pass it through. */
  | { readonly kind: 'hold'; readonly release: Promise<void> }
  /** The registry's status line and headers, then `bytes` bytes of its body, then the socket is destroyed. */
  | { readonly kind: 'reset-after'; readonly bytes: number }
  /** The registry's status line and headers, then `bytes` bytes of its body, then silence. */
  | { readonly kind: 'stall-after'; readonly bytes: number }
  /** The registry's answer with headers replaced (lower-case names). */
  | { readonly kind: 'headers'; readonly headers: Record<string, string> }
  /** A scripted answer: status, headers and body. */
  | { readonly kind: 'answer'; readonly status: number; readonly headers: Record<string, string>; readonly body: Buffer };

export interface FaultyFront {
  readonly url: string;
  readonly host: string;
  /** Every request seen, as `METHOD path` (query included). */
  readonly requests: string[];
  /** Injects `fault` for requests whose `METHOD path` (query excluded) matches; later faults win. */
  inject(match: RegExp, fault: Fault): void;
  /** Removes every fault: everything passes through again. */
  heal(): void;
  /** Stops listening and drops every connection: new connections are refused (ECONNREFUSED). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Buffered {
  readonly status: number;
  readonly message: string;
  readonly headers: [string, string][];
  readonly body: Buffer;
}

export async function startFaultyFront(registryUrl: string): Promise<FaultyFront> {
  const target = new URL(registryUrl);
  const faults: { match: RegExp; fault: Fault }[] = [];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server = createServer(handle);

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    requests.push(`${req.method} ${path}`);
    const key = `${req.method} ${path.split('?')[0]}`;
    const fault = faults.findLast((f) => f.match.test(key))?.fault;
    if (fault === undefined) return void pass(req, res);
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end('{"errors":[{"code":"UNKNOWN","message":"injected"}]}');
        return;
      case 'stall':
        return;
      case 'hold':
        void fault.release.finally(() => pass(req, res));
        return;
      case 'answer':
        res.writeHead(fault.status, { ...fault.headers, 'content-length': fault.body.length });
        res.end(req.method === 'HEAD' ? undefined : fault.body);
        return;
      default:
        void buffered(req).then(
          (answer) => {
            if (fault.kind === 'headers') {
              const headers = Object.fromEntries(answer.headers.filter(([name]) => !(name in fault.headers)));
              res.writeHead(answer.status, { ...headers, ...fault.headers });
              res.end(answer.body);
              return;
            }
            // Raw bytes on the socket: the whole head with the full Content-Length, then a part of the body.
            const head = [`HTTP/1.1 ${answer.status} ${answer.message}`, ...answer.headers.map(([n, v]) => `${n}: ${v}`)].join('\r\n');
            req.socket.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), answer.body.subarray(0, fault.bytes)]));
            if (fault.kind === 'reset-after') setTimeout(() => req.socket.destroy(), 20);
          },
          () => res.destroy(),
        );
    }
  }

  function pass(req: IncomingMessage, res: ServerResponse): void {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  /** The registry's whole answer, headers in order (without hop-by-hop framing). */
  function buffered(req: IncomingMessage): Promise<Buffered> {
    return new Promise((resolve, reject) => {
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            const headers: [string, string][] = [];
            for (let i = 0; i < answer.rawHeaders.length; i += 2) {
              const name = answer.rawHeaders[i]!.toLowerCase();
              if (name !== 'transfer-encoding' && name !== 'connection' && name !== 'content-length')
                headers.push([name, answer.rawHeaders[i + 1]!]);
            }
            headers.push(['content-length', String(body.length)]);
            resolve({ status: answer.statusCode ?? 502, message: answer.statusMessage ?? '', headers, body });
          });
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const track = (s: Server): void =>
    void s.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  track(server);
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    inject: (match, fault) => void faults.push({ match, fault }),
    heal: () => void (faults.length = 0),
    down: stop,
    async up() {
      server = createServer(handle);
      track(server);
      await listen(port);
    },
    close: stop,
  };
}
