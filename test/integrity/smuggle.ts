// Request smuggling written byte for byte on a socket (node:net): a blob GET or HEAD with
// `Transfer-Encoding: chunked` whose body is a second, complete HTTP request. A proxy that pipes the
// client's body upstream without its framing makes the upstream read that body as a request of its own.
import { connect } from 'node:net';
import { SMUGGLED_HEADER } from './graph-upstream.ts';

export interface SmuggleAttempt {
  readonly method: 'GET' | 'HEAD';
  /** The outer request's path: a blob of this graph. */
  readonly path: string;
  /** The path of the request hidden in the body. */
  readonly inner: string;
}

/** The status of the first answer (0 when none came before the connection closed or `timeoutMs` passed). */
export function smuggle(hostPort: string, attempt: SmuggleAttempt, timeoutMs = 2_000): Promise<number> {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon);
  const inner = `GET ${attempt.inner} HTTP/1.1\r\nHost: ${hostPort}\r\n${SMUGGLED_HEADER}: 1\r\n\r\n`;
  const body = `${Buffer.byteLength(inner).toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
  const outer = `${attempt.method} ${attempt.path} HTTP/1.1\r\nHost: ${hostPort}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(hostPort.slice(colon + 1)) }, () => socket.write(outer + body));
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0));
    };
    const timer = setTimeout(done, timeoutMs);
    // Read to the end (the request says `Connection: close`): closing early could abort the
    // proxied upstream request before the smuggled bytes reach the upstream.
    socket.on('data', (chunk: Buffer) => void (text += chunk.toString('latin1')));
    socket.on('error', done);
    socket.on('close', done);
  });
}
