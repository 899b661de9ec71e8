// One HTTP/1.1 exchange written byte for byte on a socket, so request lines no client library would
// send (absolute-form targets, backslashes, raw `..`) reach the server as written.
import { connect } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Milliseconds from connecting to the complete answer (or the connection's end). */
  readonly ms: number;
}

export function rawRequest(hostPort: string, head: string, body = ''): Promise<RawAnswer> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host, port }, () => socket.write(`${head.replace(/\r?\n/g, '\r\n')}\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    let settled = false;
    const parse = (): RawAnswer | undefined => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = text.slice(end + 4);
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      return {
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
        headers,
        body: length === undefined ? rest : rest.slice(0, length),
        ms: performance.now() - started,
      };
    };
    const finish = (answer: RawAnswer): void => {
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A complete answer with a Content-Length ends the exchange even if the server keeps the socket open.
      const answer = parse();
      if (
        answer?.headers['content-length'] !== undefined &&
        Buffer.byteLength(answer.body, 'latin1') >= Number(answer.headers['content-length'])
      )
        finish(answer);
    });
    socket.on('error', (error) => (settled ? undefined : reject(error)));
    socket.on('close', () => {
      if (!settled) finish(parse() ?? { status: 0, headers: {}, body: '', ms: performance.now() - started });
    });
  });
}

/** The `errors[0]` of an OCI error body. */
export function ociErrorOf(body: string): { code: string; message: string; detail?: { reasons?: string[] } } {
  const parsed = JSON.parse(body) as { errors: Array<{ code: string; message: string; detail?: { reasons?: string[] } }> };
  return parsed.errors[0]!;
}
