import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface FakeUpstream {
  readonly url: string;
  readonly host: string;
  /** Every request seen, as `METHOD path`. */
  readonly requests: string[];
  readonly headers: IncomingMessage['headers'][];
  /** Replace the behaviour for one path (exact match, query excluded), or the fallback with '*'. */
  on(path: string, handler: Handler): void;
  close(): Promise<void>;
}

/** A real HTTP server on loopback that plays a registry with scripted answers. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const routes = new Map<string, Handler>();
  const requests: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(`${req.method} ${req.url}`);
    headers.push(req.headers);
    const handler = routes.get(path) ?? routes.get('*');
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      return;
    }
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    headers,
    on: (path, handler) => void routes.set(path, handler),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Answers a manifest GET/HEAD like distribution does. */
export function manifestAnswer(bytes: Buffer, mediaType: string, extra: Record<string, string> = {}): Handler {
  return (req, res) => {
    res.writeHead(200, { 'content-type': mediaType, 'content-length': bytes.length, 'docker-content-digest': digestOf(bytes), ...extra });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
}

/** The smallest OCI image: a `{}` config and no layers. Unsigned unless a test signs it. */
export function minimalImage(): {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly manifest: Buffer;
  readonly digest: string;
} {
  const config = Buffer.from('{}');
  const configDigest = digestOf(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: 2 },
      layers: [],
    }),
  );
  return { config, configDigest, manifest, digest: digestOf(manifest) };
}

/** Serves `image` as `<repository>:<tag>`, its config blob included. */
export function serveImage(upstream: FakeUpstream, repository: string, tag: string, image: ReturnType<typeof minimalImage>): void {
  upstream.on(`/v2/${repository}/manifests/${tag}`, manifestAnswer(image.manifest, 'application/vnd.oci.image.manifest.v1+json'));
  upstream.on(
    `/v2/${repository}/blobs/${image.configDigest}`,
    (_req, res) =>
      void res.writeHead(200, { 'content-length': image.config.length, 'docker-content-digest': image.configDigest }).end(image.config),
  );
}
