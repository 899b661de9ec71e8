import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ListenConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';

export interface Listening {
  readonly server: Server | HttpsServer;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves HTTPS from the configured certificate (reloaded when its files change), or plain HTTP
 * when the config says so explicitly. Applies the listener's size and time limits.
 */
export async function listen(
  handler: RequestListener,
  config: ListenConfig,
  logger: Logger,
  onTlsReloadFailed: () => void = () => {},
): Promise<Listening> {
  const limits = {
    maxHeaderSize: config.maxHeaderBytes,
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (default 30 s): a slowloris would outlive headersTimeoutMs.
    connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    // Blobs stream upstream → client in 64 KiB reads; at Node 20's 16 KiB default each read filled
    // the response buffer and paused the upstream socket again (BENCHMARKS.md, blobs).
    highWaterMark: 256 * 1024,
  };
  const tls = config.tls;
  const server = tls === undefined ? createHttpServer(limits, handler) : createHttpsServer({ ...limits, ...readPair(tls) }, handler);
  server.maxConnections = config.maxConnections;
  if (tls !== undefined) {
    const reload = (): void => {
      try {
        (server as HttpsServer).setSecureContext(readPair(tls));
        logger.info({ event: 'tls_reloaded', certFile: tls.certFile }, 'TLS certificate reloaded');
      } catch (error) {
        logger.error(
          { event: 'tls_reload_failed', certFile: tls.certFile, err: String(error) },
          'TLS reload failed; keeping the previous certificate',
        );
        onTlsReloadFailed();
      }
    };
    watchFile(tls.certFile, { interval: 2_000 }, reload);
    watchFile(tls.keyFile, { interval: 2_000 }, reload);
    server.once('close', () => {
      unwatchFile(tls.certFile, reload);
      unwatchFile(tls.keyFile, reload);
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `${tls === undefined ? 'http' : 'https'}://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readPair(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
}
