import { open, rename, utimes, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import { algorithmOf } from '../oci/digest.ts';
import { isDigest, type Digest } from '../oci/reference.ts';
import { DiskFaults, LogThrottle } from './disk-faults.ts';
import { createFill, type FillHost } from './fill.ts';
import { hashFile, READ_CHUNK_BYTES, readWhole, removeQuietly, syncDirectory } from './files.ts';
import { Layout } from './layout.ts';
import { addLink, hasLink } from './links.ts';
import { LinksFile } from './links-file.ts';
import { LruIndex, type IndexEntry } from './lru-index.ts';
import { clearTemp, ensureTree, scanEntries } from './scan-directory.ts';
import type { BlobStore, BlobStoreEvents, ByteRange, Fill, OpenFile, StoredEntry } from './types.ts';

export interface BlobStoreOptions {
  readonly directory: string;
  readonly maxBytes: number;
  readonly logger: Logger;
  readonly events?: BlobStoreEvents | undefined;
  /** The clock for the fault back-off, log throttles and mtime touches; Date.now by default. */
  readonly now?: (() => number) | undefined;
}

/** A read sets the entry's mtime at most this often, so LRU order roughly survives a restart without a write per read. */
export const TOUCH_INTERVAL_MS = 60_000;

const NO_EVENTS: BlobStoreEvents = Object.freeze({ evicted() {}, verificationFailed() {}, bypassed() {}, sizeChanged() {} });

/**
 * Opens (creating when missing) the cache directory: empties the temp area, indexes the committed
 * entries (LRU order from mtime) and their links, and evicts past `maxBytes`. Entries are hashed
 * lazily, on their first read in this process.
 */
export async function openBlobStore(options: BlobStoreOptions): Promise<BlobStore> {
  if (typeof options.directory !== 'string' || options.directory === '') throw new TypeError('openBlobStore: directory is required');
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0)
    throw new TypeError('openBlobStore: maxBytes must be a positive integer');
  const layout = new Layout(options.directory);
  await ensureTree(layout);
  await clearTemp(layout);
  const store = new DiskBlobStore(layout, options);
  await store.load();
  return store;
}

class DiskBlobStore implements BlobStore, FillHost {
  readonly maxBytes: number;
  readonly logger: Logger;
  readonly events: BlobStoreEvents;
  readonly faults: DiskFaults;
  private readonly now: () => number;
  private readonly index = new LruIndex();
  private readonly fills = new Set<Fill>();
  private readonly linksFile: LinksFile;
  /** Per digest: a pending unlink of an evicted or discarded entry; a commit of that digest waits for it. */
  private readonly unlinks = new Map<Digest, Promise<void>>();
  /** mtime touches in flight, so close() leaves none behind. */
  private readonly touches = new Set<Promise<void>>();
  private readonly warnings: LogThrottle;
  private closed = false;

  constructor(
    readonly layout: Layout,
    options: BlobStoreOptions,
  ) {
    this.maxBytes = options.maxBytes;
    this.logger = options.logger;
    this.events = options.events ?? NO_EVENTS;
    this.now = options.now ?? Date.now;
    this.faults = new DiskFaults(this.logger, this.events, this.now);
    this.warnings = new LogThrottle(this.logger, this.now, 10_000);
    this.linksFile = new LinksFile(layout, this.warnings);
  }

  async load(): Promise<void> {
    for (const scanned of await scanEntries(this.layout)) {
      this.index.put({ digest: scanned.digest, size: scanned.size, links: scanned.links, verified: false, touchedAt: scanned.mtimeMs });
    }
    await this.evict();
    this.events.sizeChanged(this.index.total);
    this.logger.info({ directory: this.layout.directory, entries: this.index.count, bytes: this.index.total }, 'blob cache opened');
  }

  lookup(digest: Digest, upstream: string, repository: string): StoredEntry | undefined {
    const entry = this.entry(digest);
    return entry === undefined ? undefined : { size: entry.size, linked: hasLink(entry.links, upstream, repository) };
  }

  async link(digest: Digest, upstream: string, repository: string): Promise<void> {
    const entry = this.entry(digest);
    if (entry !== undefined && addLink(entry.links, upstream, repository)) await this.saveLinks(entry);
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable | undefined> {
    const entry = this.entry(digest);
    if (entry === undefined) return undefined;
    if (range !== undefined && !validRange(range, entry.size)) {
      throw new TypeError(`BlobStore.open: range ${range.start}-${range.end} outside 0-${entry.size - 1}`);
    }
    const handle = await this.openVerified(entry);
    if (handle === undefined) return undefined;
    const bounds = range === undefined ? {} : { start: range.start, end: Math.min(range.end, entry.size - 1) };
    // The stream owns the handle (closes it at the end): an entry evicted meanwhile is still read whole (POSIX unlink).
    return handle.createReadStream({ ...bounds, highWaterMark: READ_CHUNK_BYTES });
  }

  async openFile(digest: Digest, range?: ByteRange): Promise<OpenFile | undefined> {
    const entry = this.entry(digest);
    if (entry === undefined) return undefined;
    if (range !== undefined && !validRange(range, entry.size)) {
      throw new TypeError(`BlobStore.openFile: range ${range.start}-${range.end} outside 0-${entry.size - 1}`);
    }
    const handle = await this.openVerified(entry);
    if (handle === undefined) return undefined;
    return range === undefined
      ? { handle, start: 0, end: entry.size - 1 }
      : { handle, start: range.start, end: Math.min(range.end, entry.size - 1) };
  }

  async readBytes(digest: Digest, maxBytes: number): Promise<Buffer | undefined> {
    const entry = this.entry(digest);
    if (entry === undefined || entry.size > maxBytes) return undefined;
    const handle = await this.openVerified(entry);
    if (handle === undefined) return undefined;
    try {
      const bytes = await readWhole(handle, entry.size);
      if (bytes.length === entry.size) return bytes;
      await this.discard(entry, 'short');
      return undefined;
    } catch (error) {
      this.readError(entry, error);
      return undefined;
    } finally {
      await handle.close().catch(() => {});
    }
  }

  async beginFill(digest: Digest, upstream: string, repository: string): Promise<Fill | undefined> {
    if (this.closed || !isDigest(digest) || this.faults.backingOff(digest)) return undefined;
    const fill = await createFill(this, digest, upstream, repository);
    if (fill !== undefined) this.fills.add(fill);
    return fill;
  }

  async putBytes(digest: Digest, bytes: Buffer, upstream: string, repository: string): Promise<void> {
    const fill = await this.beginFill(digest, upstream, repository);
    if (fill === undefined) return;
    await fill.write(bytes);
    await fill.finish();
  }

  size(): number {
    return this.index.total;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.fills].map((fill) => fill.abort()));
    await Promise.all([this.linksFile.drain(), ...this.unlinks.values(), ...this.touches]);
  }

  ended(fill: Fill): void {
    this.fills.delete(fill);
  }

  /**
   * The commit of a fill whose bytes matched, synced and closed: rename into place (atomic, so a
   * concurrent commit of the same digest, even by another process, replaces identical bytes), fsync the
   * directory, link, account once per digest, evict past `maxBytes`.
   */
  async commit(digest: Digest, temp: string, size: number, upstream: string, repository: string): Promise<'committed' | 'bypassed'> {
    const path = this.layout.contentPath(digest)!;
    await this.unlinks.get(digest);
    try {
      await rename(temp, path);
    } catch (error) {
      await removeQuietly(temp);
      this.faults.fault(error, digest);
      return 'bypassed';
    }
    await syncDirectory(dirname(path));
    const previous = this.index.get(digest);
    const links = new Map(previous?.links ?? []);
    addLink(links, upstream, repository);
    // A new object: a first-read hash still running on the replaced file cannot discard this one.
    const entry: IndexEntry = { digest, size, links, verified: true, touchedAt: this.now() };
    this.index.put(entry);
    await this.saveLinks(entry);
    await this.evict(entry);
    this.events.sizeChanged(this.index.total);
    return 'committed';
  }

  private entry(digest: Digest): IndexEntry | undefined {
    return this.closed || !isDigest(digest) ? undefined : this.index.get(digest);
  }

  /** An open handle on an entry that hashes to its digest (hashed once per process) and has its size; marks it recently used. */
  private async openVerified(entry: IndexEntry): Promise<FileHandle | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.layout.contentPath(entry.digest)!, 'r');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') await this.discard(entry, 'missing');
      else this.readError(entry, error);
      return undefined;
    }
    try {
      if (!entry.verified) {
        entry.verifying ??= this.verify(entry, handle).finally(() => (entry.verifying = undefined));
        if (!(await entry.verifying)) {
          await handle.close();
          return undefined;
        }
      }
      // Cheap on every read: a file cut short after it was hashed is never served.
      if ((await handle.stat()).size !== entry.size) {
        await handle.close();
        await this.discard(entry, 'short');
        return undefined;
      }
    } catch (error) {
      await handle.close().catch(() => {});
      this.readError(entry, error);
      return undefined;
    }
    this.touch(entry);
    return handle;
  }

  /** The first read's hash of the whole file (streamed); a file that does not match its digest and size is discarded. */
  private async verify(entry: IndexEntry, handle: FileHandle): Promise<boolean> {
    const { hex, bytes } = await hashFile(handle, algorithmOf(entry.digest));
    if (`${algorithmOf(entry.digest)}:${hex}` === entry.digest && bytes === entry.size) {
      entry.verified = true;
      return true;
    }
    await this.discard(entry, bytes < entry.size ? 'short' : 'mismatch');
    return false;
  }

  /** Removes an entry that cannot be served (corrupt, short, gone) with its links, and counts a verification failure. */
  private async discard(entry: IndexEntry, why: 'mismatch' | 'short' | 'missing'): Promise<void> {
    if (!this.index.remove(entry)) return;
    this.events.verificationFailed('read');
    this.logger.warn({ digest: entry.digest, why }, 'blob cache entry does not hash to its digest; deleted, not served');
    await this.unlink(entry);
    this.events.sizeChanged(this.index.total);
  }

  private readError(entry: IndexEntry, error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    this.warnings.warn(
      'read',
      { digest: entry.digest, code: typeof code === 'string' ? code : undefined },
      'blob cache read failed; not served',
    );
  }

  private async evict(keep?: IndexEntry): Promise<void> {
    const evicted = this.index.evictPast(this.maxBytes, keep);
    if (keep !== undefined && this.index.total > this.maxBytes && this.index.remove(keep)) evicted.push(keep); // bigger than the whole cache
    if (evicted.length === 0) return;
    await Promise.all(evicted.map((entry) => this.unlink(entry)));
    this.events.evicted(
      evicted.length,
      evicted.reduce((sum, e) => sum + e.size, 0),
    );
  }

  private unlink(entry: IndexEntry): Promise<void> {
    const { digest } = entry;
    const done = Promise.all([removeQuietly(this.layout.contentPath(digest)!), removeQuietly(this.layout.linksPath(digest)!)]).then(() => {
      if (this.unlinks.get(digest) === done) this.unlinks.delete(digest);
    });
    this.unlinks.set(digest, done);
    return done;
  }

  private saveLinks(entry: IndexEntry): Promise<void> {
    return this.linksFile.save(entry.digest, entry.links, () => this.index.get(entry.digest) === entry);
  }

  /** Recency in memory on every read; on disk (mtime) at most every TOUCH_INTERVAL_MS, best effort. */
  private touch(entry: IndexEntry): void {
    this.index.touch(entry);
    const at = this.now();
    if (at - entry.touchedAt < TOUCH_INTERVAL_MS) return;
    entry.touchedAt = at;
    const when = new Date(at);
    const touched = utimes(this.layout.contentPath(entry.digest)!, when, when)
      .catch(() => {})
      .then(() => void this.touches.delete(touched));
    this.touches.add(touched);
  }
}

function validRange(range: ByteRange, size: number): boolean {
  return (
    Number.isSafeInteger(range.start) &&
    Number.isSafeInteger(range.end) &&
    range.start >= 0 &&
    range.start <= range.end &&
    range.start < size
  );
}
