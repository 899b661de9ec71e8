import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { sendFile } from '../blobcache/send-file.ts';
import type { BlobStore, Fill } from '../blobcache/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import type { StreamAccess } from '../gate/types.ts';
import { contentRange, parseRange, unsatisfiedRange } from '../input/byte-range.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Digest } from '../oci/reference.ts';
import { repositoryPath, repositoryScope } from '../upstream/registry-paths.ts';
import type { Source } from '../upstream/source.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { upstreamError } from '../upstream/upstream-answer.ts';
import { isRedirect } from '../upstream/redirect.ts';
import type { BlobProxy } from './blobs.ts';

/**
 * How a blob the blob gate let through reaches the client: straight from the upstream, or through
 * the verified cache (docs/blob-cache.md). The gate, pull auth and the allowlist ran before this.
 */
export interface BlobServer {
  serve(req: IncomingMessage, res: ServerResponse, source: Source, digest: Digest, access: StreamAccess): Promise<void>;
  close(): void;
}

/** No cache: every blob streams from the upstream. */
export function uncachedBlobs(proxy: BlobProxy): BlobServer {
  return { serve: (req, res, source, digest) => proxy.serve(req, res, source, digest), close: () => proxy.close() };
}

export interface CachedBlobsDeps {
  readonly store: BlobStore;
  readonly proxy: BlobProxy;
  readonly client: UpstreamClient;
  /** `blobCache.failStatic`: while the upstream is unreachable, cached blobs a verdict allows are served. */
  readonly failStatic: boolean;
  /** Whether the last real request to this upstream found it unreachable (upstream/outcomes.ts). */
  readonly upstreamDown: () => boolean;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
}

/** What a fill left when it ended: the next request for the digest looks again. */
type FillEnd = 'committed' | 'mismatch' | 'bypassed' | 'aborted';

/**
 * The verified pull-through cache in front of one upstream's blob proxy (docs/blob-cache.md):
 * - a hit is served from disk only for a repository the upstream confirmed has the blob (a hit
 *   recorded under another repository is confirmed first with a HEAD under the requester's scope);
 * - a whole GET that misses streams from the upstream through a fill, which hashes the bytes with
 *   the digest's algorithm, holds the last chunk back until they match, and commits the entry
 *   only then; a mismatch cuts the client's stream before its last byte;
 * - a Range request or a HEAD that misses is proxied and commits nothing;
 * - concurrent misses of one digest wait for the first one's fill and are then served from disk.
 */
export function createCachedBlobs(deps: CachedBlobsDeps): BlobServer {
  const { store, proxy, client, logger, metrics } = deps;
  const upstream = client.config.name;
  const filling = new Map<Digest, Promise<FillEnd>>();

  async function serve(req: IncomingMessage, res: ServerResponse, source: Source, digest: Digest, access: StreamAccess, waited = false) {
    // docs/blob-cache.md "Fail static": with it on, only a verdict's blobs come from the cache; break
    // glass always goes to the upstream, so an outage (known to trustgate or not) ends it at once.
    if (deps.failStatic && access.from !== 'verdict') {
      metrics?.blobCacheRequest(upstream, 'pass');
      return proxy.serve(req, res, source, digest);
    }
    const down = deps.upstreamDown();
    const entry = store.lookup(digest, upstream, source.repository);
    if (entry !== undefined && (!down || deps.failStatic)) {
      const linked = entry.linked || (await confirmedUpstream(source, digest));
      if (linked && (await fromCache(req, res, digest, entry.size, down))) return;
    }
    const whole = req.method === 'GET' && req.headers.range === undefined;
    if (!whole) {
      metrics?.blobCacheRequest(upstream, 'pass');
      return proxy.serve(req, res, source, digest);
    }
    const inFlight = filling.get(digest);
    if (inFlight !== undefined && !waited) {
      // One upstream fetch per digest: wait for it, then look again (served from disk when it committed).
      // The wait is capped: a fill goes at its first client's pace, and a slow client must not hold the rest.
      const filled = await settledWithin(inFlight, client.config.timeouts.headersMs);
      if (res.destroyed) return;
      if (filled) return serve(req, res, source, digest, access, true);
      metrics?.blobCacheRequest(upstream, 'pass');
      return proxy.serve(req, res, source, digest);
    }
    metrics?.blobCacheRequest(upstream, 'miss');
    let ended: (end: FillEnd) => void = () => {};
    const done = new Promise<FillEnd>((resolve) => (ended = resolve));
    if (inFlight === undefined) {
      filling.set(digest, done);
      void done.then(() => filling.get(digest) === done && filling.delete(digest));
    }
    let tapped = false;
    res.once('close', () => {
      if (!tapped) ended('aborted');
    });
    await proxy.serve(req, res, source, digest, () => {
      tapped = true;
      return new VerifyingFill(store.beginFill(digest, upstream, source.repository), digest, upstream, logger, ended);
    });
  }

  /** A hit recorded under another repository: served only when the upstream says, under this repository's scope, that it has the blob. */
  async function confirmedUpstream(source: Source, digest: Digest): Promise<boolean> {
    const response = await client
      .request({
        method: 'HEAD',
        path: repositoryPath(source.repository, `blobs/${digest}`),
        scope: repositoryScope(source.repository),
        maxBytes: 0,
        redirects: 'return',
      })
      .catch((error: unknown) => {
        throw upstreamError(upstream, { thrown: error, timeouts: client.config.timeouts });
      });
    const present = response.status === 200 || isRedirect(response.status, response.headers['location']);
    if (present) await store.link(digest, upstream, source.repository);
    else if (response.status >= 500 || response.status === 429)
      throw upstreamError(upstream, { status: response.status, headers: response.headers, missing: 'BLOB_UNKNOWN' });
    return present;
  }

  /** Serves a committed entry (whole, one range, or HEAD); false when the entry turned out unusable (it was dropped). */
  async function fromCache(req: IncomingMessage, res: ServerResponse, digest: Digest, size: number, down: boolean): Promise<boolean> {
    const ifRange = req.headers['if-range'];
    const range = ifRange === undefined || ifRange === `"${digest}"` ? parseRange(req.headers.range, size) : { kind: 'whole' as const };
    const part = range.kind === 'range' ? { start: range.start, end: range.end } : undefined;
    // Opened (and, on its first read in this process, hashed whole and its size checked) before any
    // header goes out, for a HEAD and a 416 too: every answer from the cache is an answer about the bytes.
    const file = await store.openFile(digest, part);
    if (file === undefined) return false;
    try {
      const headers: Record<string, string | number> = {
        'content-type': 'application/octet-stream',
        'docker-content-digest': digest,
        etag: `"${digest}"`,
        'accept-ranges': 'bytes',
      };
      if (range.kind === 'unsatisfiable') {
        res.writeHead(416, { ...headers, 'content-range': unsatisfiedRange(size), 'content-length': 0 });
        res.end();
        return true;
      }
      const length = file.end - file.start + 1;
      metrics?.blobCacheRequest(upstream, down ? 'static' : 'hit');
      res.writeHead(part === undefined ? 200 : 206, {
        ...headers,
        'content-length': length,
        ...(part === undefined ? {} : { 'content-range': contentRange(file.start, file.end, size) }),
      });
      if (req.method === 'HEAD') {
        res.end();
        return true;
      }
      let sent = 0;
      try {
        sent = await sendFile(file.handle, file.start, file.end, res);
        res.end();
      } catch (error) {
        res.destroy(); // the Content-Length promised more: the client sees the answer cut, never a short 200
        throw error;
      } finally {
        metrics?.blobBytes(upstream, sent);
        metrics?.blobCacheServedBytes(upstream, sent);
      }
      return true;
    } finally {
      await file.handle.close().catch(() => {});
    }
  }

  return {
    serve: (req, res, source, digest, access) => serve(req, res, source, digest, access),
    close: () => proxy.close(),
  };
}

/**
 * Between the upstream's 200 and the client: every chunk goes to the fill (hashed, written), and
 * the last one is held back until the whole body hashes to the digest, so a client never gets the
 * complete bytes of a blob that does not match. Without a usable fill (the disk is full or
 * read-only), the bytes stream on unverified, as they would without the cache.
 */
class VerifyingFill extends Transform {
  #fill: Fill | undefined;
  readonly #pending: Promise<Fill | undefined>;
  #held: Buffer | undefined;
  #ended = false;
  /** Set once every byte matched: from then on only the commit decides how the fill ends. */
  #committing = false;

  constructor(
    pending: Promise<Fill | undefined>,
    readonly digest: Digest,
    readonly upstream: string,
    readonly logger: Logger,
    readonly onEnd: (end: FillEnd) => void,
  ) {
    super();
    this.#pending = pending.catch(() => undefined);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    void this.#write(chunk).then(() => callback(), callback);
  }

  async #write(chunk: Buffer): Promise<void> {
    this.#fill ??= await this.#pending;
    if (this.#fill === undefined) {
      this.push(chunk);
      return;
    }
    await this.#fill.write(chunk);
    if (this.#held !== undefined) this.push(this.#held);
    this.#held = chunk;
  }

  override _flush(callback: TransformCallback): void {
    void this.#finish().then(
      (error) => callback(error),
      (error: unknown) => callback(error as Error),
    );
  }

  async #finish(): Promise<Error | undefined> {
    this.#fill ??= await this.#pending;
    const fill = this.#fill;
    if (fill === undefined) return this.#end('bypassed');
    if (!fill.matches()) {
      await fill.finish(); // removes the temporary file; counted and logged by the store
      this.#end('mismatch');
      return new TrustgateError('UPSTREAM_DIGEST_MISMATCH', `upstream "${this.upstream}" sent bytes that do not hash to ${this.digest}`);
    }
    this.#committing = true;
    if (this.#held !== undefined) this.push(this.#held);
    this.#held = undefined;
    // The client has every byte; the entry commits behind it (fsync, rename), and waiters look again after.
    void fill.finish().then((end) => this.#end(end === 'committed' ? 'committed' : end));
    return undefined;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#ended && !this.#committing) void this.#pending.then((fill) => fill?.abort()).finally(() => this.#end('aborted'));
    callback(error);
  }

  #end(end: FillEnd): undefined {
    if (this.#ended) return undefined;
    this.#ended = true;
    if (end === 'mismatch')
      this.logger.warn(
        { event: 'blob_cache_mismatch', upstream: this.upstream, digest: this.digest },
        'blob bytes do not match their digest; client stream cut',
      );
    this.onEnd(end);
    return undefined;
  }
}

/** Whether `promise` settled within `ms` (it never rejects here); the timer does not hold the process. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
