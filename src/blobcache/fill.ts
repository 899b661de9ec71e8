import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log/logger.ts';
import { algorithmOf } from '../oci/digest.ts';
import type { Digest } from '../oci/reference.ts';
import type { DiskFaults } from './disk-faults.ts';
import { removeQuietly } from './files.ts';
import type { Layout } from './layout.ts';
import type { BlobStoreEvents, Fill } from './types.ts';

export type FillResult = 'committed' | 'mismatch' | 'bypassed';

/** What a fill needs from its store: where temp files go, the limits, and the commit of a verified, synced file. */
export interface FillHost {
  readonly layout: Layout;
  readonly maxBytes: number;
  readonly faults: DiskFaults;
  readonly logger: Logger;
  readonly events: BlobStoreEvents;
  /** Renames the synced temp file into place, links and accounts it; removes the temp file when it cannot. */
  commit(digest: Digest, temp: string, size: number, upstream: string, repository: string): Promise<'committed' | 'bypassed'>;
  /** The fill is over (finished or aborted). */
  ended(fill: Fill): void;
}

/** Creates the temp file; undefined (the bypass counted) when the disk refuses it. */
export async function createFill(host: FillHost, digest: Digest, upstream: string, repository: string): Promise<Fill | undefined> {
  const temp = host.layout.tempPath();
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o644);
  } catch (error) {
    host.faults.fault(error, digest);
    return undefined;
  }
  return new DiskFill(host, digest, upstream, repository, temp, handle);
}

/**
 * Bytes go into the hash at once and to the temp file in order (each write chained on the last, at
 * its own position). The first disk error drops the file and every later write, not the hashing.
 */
class DiskFill implements Fill {
  private readonly hash: Hash;
  private hex: string | undefined;
  private hashed = 0;
  private written = 0;
  private writes: Promise<void> = Promise.resolve();
  /** Why the file was dropped before the end: a disk fault, or more bytes than the whole cache may hold. */
  private dropped: 'fault' | 'too_big' | 'aborted' | undefined;
  private result: Promise<FillResult> | undefined;

  constructor(
    private readonly host: FillHost,
    private readonly digest: Digest,
    private readonly upstream: string,
    private readonly repository: string,
    private readonly temp: string,
    private handle: FileHandle | undefined,
  ) {
    this.hash = createHash(algorithmOf(digest));
  }

  write(chunk: Buffer): Promise<void> {
    if (this.hex !== undefined || this.result !== undefined) return this.writes;
    this.hash.update(chunk);
    this.hashed += chunk.length;
    if (this.dropped !== undefined) return this.writes;
    if (this.hashed > this.host.maxBytes) {
      // It could never be kept (store.ts keeps nothing bigger than the cache): stop writing it now.
      this.dropped = 'too_big';
      this.writes = this.writes.then(() => this.discard());
    } else {
      this.writes = this.writes.then(() => this.writeOut(chunk));
    }
    return this.writes;
  }

  matches(): boolean {
    this.hex ??= this.hash.digest('hex');
    return `${algorithmOf(this.digest)}:${this.hex}` === this.digest;
  }

  finish(): Promise<FillResult> {
    this.result ??= this.settle().catch(async () => {
      await this.discard();
      return 'bypassed' as const;
    });
    return this.result;
  }

  async abort(): Promise<void> {
    if (this.result !== undefined) {
      await this.result;
      return;
    }
    this.dropped ??= 'aborted';
    this.result = this.writes.then(() => this.discard()).then(() => 'bypassed' as const);
    await this.result;
  }

  private async settle(): Promise<FillResult> {
    await this.writes;
    if (!this.matches()) {
      await this.discard();
      this.host.events.verificationFailed('fill');
      this.host.logger.warn({ digest: this.digest, bytes: this.hashed }, 'blob cache fill does not hash to its digest; nothing stored');
      return 'mismatch';
    }
    const handle = this.handle;
    if (this.dropped !== undefined || handle === undefined) {
      if (this.dropped === 'too_big')
        this.host.logger.debug({ digest: this.digest, bytes: this.hashed }, 'blob larger than the cache; not stored');
      await this.discard();
      return 'bypassed';
    }
    this.handle = undefined;
    try {
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => {});
      return this.fault(error);
    }
    try {
      await handle.close();
    } catch (error) {
      return this.fault(error);
    }
    try {
      return await this.host.commit(this.digest, this.temp, this.written, this.upstream, this.repository);
    } finally {
      this.host.ended(this);
    }
  }

  private async writeOut(chunk: Buffer): Promise<void> {
    const handle = this.handle;
    if (handle === undefined || this.dropped !== undefined) return;
    try {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, this.written);
        if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
        offset += bytesWritten;
        this.written += bytesWritten;
      }
    } catch (error) {
      await this.fault(error);
    }
  }

  private async fault(error: unknown): Promise<'bypassed'> {
    this.dropped = 'fault';
    this.host.faults.fault(error, this.digest);
    await this.discard();
    return 'bypassed';
  }

  /** Closes and removes the temp file; the fill is over. */
  private async discard(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
    await removeQuietly(this.temp);
    this.host.ended(this);
  }
}
