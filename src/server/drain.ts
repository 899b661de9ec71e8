import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** How often connections that went idle during the drain are closed. */
const SWEEP_MS = 100;

/**
 * Graceful close: stop accepting connections, let requests in flight finish (blob streams
 * included) for up to `graceMs`, then cut whatever is left. A connection closes as soon as it is
 * idle: Node closes those idle now, and the sweep those that finish a response later (a keep-alive
 * connection would otherwise stay open until its keep-alive timeout).
 */
export function drain(server: Server | HttpsServer, graceMs: number): Promise<'drained' | 'forced'> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
    const deadline = setTimeout(() => {
      clearInterval(sweep);
      server.closeAllConnections();
      resolve('forced');
    }, graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve('drained');
    });
  });
}
