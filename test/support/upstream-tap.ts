// A TCP tap between trustgate and its upstream: it relays every connection byte for byte and parses
// what trustgate sends into HTTP/1.1 requests (framed by Content-Length or chunked encoding, as the
// upstream's own parser would), so a test can assert exactly which upstream requests a client
// request made: a smuggled request shows up as one more request on some connection.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TappedRequest {
  readonly connection: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface UpstreamTap {
  /** http://127.0.0.1:PORT: give this to trustgate as the upstream URL. */
  readonly url: string;
  /** Connections trustgate opened to the upstream so far. */
  readonly connections: number;
  /** Every request sent through the tap so far, in order per connection. */
  requests(): TappedRequest[];
  /** Bytes on a connection that do not parse as HTTP requests (smuggled garbage, or a request cut short). */
  garbage(): string[];
  reset(): void;
  close(): Promise<void>;
}

export async function startUpstreamTap(target: { host: string; port: number }): Promise<UpstreamTap> {
  const streams: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const chunks: Buffer[] = [];
    streams.push(chunks);
    const upstream = connect(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const parsed = () => streams.map((chunks, connection) => parseRequests(Buffer.concat(chunks), connection));
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return streams.length;
    },
    requests: () => parsed().flatMap((p) => p.requests),
    garbage: () => parsed().flatMap((p) => (p.rest.length > 0 ? [p.rest.toString('latin1').slice(0, 200)] : [])),
    // Forgets what was sent so far; connections stay tapped (kept-alive ones carry later requests).
    reset: () => streams.forEach((chunks) => chunks.splice(0)),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Splits one connection's client→upstream bytes into requests; what is left over does not parse. */
export function parseRequests(bytes: Buffer, connection: number): { requests: TappedRequest[]; rest: Buffer } {
  const requests: TappedRequest[] = [];
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [line = '', ...lines] = bytes.toString('latin1', at, end).split('\r\n');
    const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
    if (match === null) break;
    const headers: Record<string, string> = {};
    for (const h of lines) {
      const colon = h.indexOf(':');
      if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    }
    let next = end + 4;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const after = skipChunks(bytes, next);
      if (after < 0) break;
      next = after;
    } else if (headers['content-length'] !== undefined) {
      next += Number(headers['content-length']);
      if (next > bytes.length) break;
    }
    requests.push({ connection, method: match[1]!, path: match[2]!, headers });
    at = next;
  }
  return { requests, rest: bytes.subarray(at) };
}

function skipChunks(bytes: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const eol = bytes.indexOf('\r\n', at);
    if (eol < 0) return -1;
    const size = parseInt(bytes.toString('latin1', at, eol), 16);
    if (Number.isNaN(size)) return -1;
    at = eol + 2 + size + 2;
    if (at > bytes.length) return -1;
    if (size === 0) return at;
  }
}
