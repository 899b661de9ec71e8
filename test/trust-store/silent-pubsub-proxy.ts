// A TCP proxy in front of Redis whose pub/sub goes quiet without the connection dropping: every
// server→client RESP frame is passed on whole, except pub/sub deliveries (`*3\r\n$7\r\nmessage\r\n…`),
// which are dropped while `dropping` is on. Subscribe confirmations, replies and PINGs still flow,
// so the client sees a healthy, subscribed connection that never hears a change.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface SilentPubSubProxy {
  readonly url: string;
  /** Drop pub/sub deliveries from now on (on by default). */
  dropping: boolean;
  /** Deliveries dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

const MESSAGE = Buffer.from('*3\r\n$7\r\nmessage\r\n');

/** The end (exclusive) of the RESP2 frame starting at `at`, or -1 when the buffer does not hold all of it yet. */
export function frameEnd(buffer: Buffer, at: number): number {
  if (at >= buffer.length) return -1;
  const eol = buffer.indexOf('\r\n', at);
  if (eol < 0) return -1;
  const type = String.fromCharCode(buffer[at]!);
  const n = Number(buffer.toString('latin1', at + 1, eol));
  switch (type) {
    case '+':
    case '-':
    case ':':
      return eol + 2;
    case '$':
      if (n < 0) return eol + 2;
      return buffer.length >= eol + 2 + n + 2 ? eol + 2 + n + 2 : -1;
    case '*': {
      let end = eol + 2;
      for (let i = 0; i < n; i += 1) {
        end = frameEnd(buffer, end);
        if (end < 0) return -1;
      }
      return end;
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

export async function startSilentPubSubProxy(target: { host: string; port: number }): Promise<SilentPubSubProxy> {
  const sockets = new Set<Socket>();
  let dropped = 0;
  const proxy: SilentPubSubProxy = {
    url: '',
    dropping: true,
    get dropped() {
      return dropped;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      let at = 0;
      const out: Buffer[] = [];
      for (;;) {
        const next = frameEnd(pending, at);
        if (next < 0) break;
        const frame = pending.subarray(at, next);
        if (proxy.dropping && frame.subarray(0, MESSAGE.length).equals(MESSAGE)) dropped += 1;
        else out.push(frame);
        at = next;
      }
      pending = pending.subarray(at);
      if (out.length > 0) client.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  (proxy as { url: string }).url = `redis://127.0.0.1:${address.port}`;
  return proxy;
}
