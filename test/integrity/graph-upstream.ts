// An in-process upstream that serves one graph at a time like distribution does (manifests by tag
// and digest with Content-Type and Docker-Content-Digest, blobs; no referrers API, so clients and
// trustgate use the fallback tag) and records every request it receives, so the oracle can tell a
// request trustgate built for a client from one a client smuggled through it.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { startFakeUpstream } from '../support/fake-upstream.ts';
import { isDerivedTag } from './expected.ts';
import type { Graph } from './model.ts';

export interface UpstreamRecord {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface GraphUpstream {
  readonly url: string;
  readonly host: string;
  /** Serve `g` from now on (any earlier graph is gone: its paths answer 404). */
  serve(g: Graph): void;
  /** Requests received since the last `serve`. */
  records(): readonly UpstreamRecord[];
  close(): Promise<void>;
}

/** What the client asked trustgate for in this graph, by kind. */
export interface Asked {
  readonly refs: Set<string>;
  readonly blobs: Set<string>;
}

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/;
/** The header every smuggled request carries, so it can be told apart whatever path it names. */
export const SMUGGLED_HEADER = 'x-smuggled';

export async function startGraphUpstream(): Promise<GraphUpstream> {
  const fake = await startFakeUpstream();
  let graph: Graph | undefined;
  fake.on('*', (req, res) => answer(graph, req, res));
  return {
    url: fake.url,
    host: fake.host,
    serve(g) {
      graph = g;
      fake.requests.length = 0;
      fake.headers.length = 0;
    },
    records: () =>
      fake.requests.map((line, i) => ({
        method: line.slice(0, line.indexOf(' ')),
        url: line.slice(line.indexOf(' ') + 1),
        headers: fake.headers[i] ?? {},
      })),
    close: () => fake.close(),
  };
}

function answer(g: Graph | undefined, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]!;
  const head = req.method === 'HEAD';
  if (path === '/v2/' || path === '/v2')
    return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end(head ? undefined : '{}');
  const match = ROUTE.exec(path);
  const [, repo, kind, ref] = match ?? [];
  if (g === undefined || repo !== g.repo) return notFound(res, 'NAME_UNKNOWN');
  if (kind === 'manifests') {
    const node = g.nodes.get(ref!.startsWith('sha256:') ? ref! : (g.tags.get(ref!) ?? ''));
    if (node === undefined) return notFound(res, 'MANIFEST_UNKNOWN');
    res.writeHead(200, { 'content-type': node.mediaType, 'content-length': node.bytes.length, 'docker-content-digest': node.digest });
    return void res.end(head ? undefined : node.bytes);
  }
  const blob = kind === 'blobs' ? g.blobs.get(ref!) : undefined;
  if (blob === undefined) return notFound(res, kind === 'blobs' ? 'BLOB_UNKNOWN' : 'NAME_UNKNOWN'); // referrers: no API here
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': blob.bytes.length,
    'docker-content-digest': blob.digest,
  });
  res.end(head ? undefined : blob.bytes);
}

function notFound(res: ServerResponse, code: string): void {
  const body = JSON.stringify({ errors: [{ code, message: code.toLowerCase().replace('_', ' ') }] });
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * Why a request the upstream received was not one trustgate built for a client request, or
 * undefined when it could have been: a pull (GET or HEAD) of this graph's repository, for a
 * reference or blob the client asked for, a tag trustgate derives for discovery, or a blob of a
 * signature-shaped manifest (which trustgate reads itself). Anything else came from a client's bytes.
 */
export function unbuilt(g: Graph, asked: Asked, record: UpstreamRecord): string | undefined {
  if (record.headers[SMUGGLED_HEADER] !== undefined) return "carries the smuggled request's marker header";
  if (record.method !== 'GET' && record.method !== 'HEAD') return `method ${record.method}`;
  const path = record.url.split('?')[0]!;
  if (path === '/v2/' || path === '/v2') return undefined;
  const [, repo, kind, ref] = ROUTE.exec(path) ?? [];
  if (repo !== g.repo) return 'a path no pull of this repository uses';
  if (kind === 'referrers') return /^sha256:[0-9a-f]{64}$/.test(ref!) ? undefined : 'referrers of no digest';
  if (kind === 'manifests')
    return g.nodes.has(ref!) || g.tags.has(ref!) || asked.refs.has(ref!) || isDerivedTag(ref!)
      ? undefined
      : 'a manifest the client never asked for';
  const readable = [...g.nodes.values()].some(
    (n) => (n.kind === 'sig' || n.kind === 'bundle' || n.kind === 'fake-sig') && n.blobs.includes(ref!),
  );
  return asked.blobs.has(ref!) || readable ? undefined : 'a blob the client never asked for';
}
