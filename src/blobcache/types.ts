import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/reference.ts';

/**
 * The verified pull-through cache's disk store (docs/blob-cache.md). Content is stored once per
 * digest; which (upstream, repository) pairs the upstream confirmed have it is kept beside it, as
 * links. The store never decides whether a pull may have bytes: the blob gate and the manifest
 * decision do that (pull/); the store only promises that what it returns hashes to its digest.
 */
export interface BlobStore {
  /** The committed entry for this digest, if any: its size, and whether this (upstream, repository) is linked to it. */
  lookup(digest: Digest, upstream: string, repository: string): StoredEntry | undefined;
  /** Records that the upstream confirmed this repository has the digest (after a HEAD under its scope). Best effort: never throws. */
  link(digest: Digest, upstream: string, repository: string): Promise<void>;
  /**
   * A read of a committed entry, whole or one byte range (inclusive `end`). The whole file is
   * hashed with the digest's algorithm on its first read in this process, before any byte is
   * returned; a file that does not match (or is gone, or is short) is deleted, counted as a
   * verification failure, and `undefined` is returned, so a corrupt or partial file is never served.
   */
  open(digest: Digest, range?: ByteRange): Promise<Readable | undefined>;
  /**
   * Like `open`, but hands over the open file itself (verified the same way), for `sendFile`
   * (send-file.ts): `start`..`end` inclusive, the whole entry when no range is given. The caller closes it.
   */
  openFile(digest: Digest, range?: ByteRange): Promise<OpenFile | undefined>;
  /** Reads a small committed entry whole (a manifest for fail static); verified like `open`. */
  readBytes(digest: Digest, maxBytes: number): Promise<Buffer | undefined>;
  /**
   * Starts filling an entry for `digest`, linked to (upstream, repository) when committed.
   * `undefined` when the store is unusable right now (disk full, read-only, I/O error): the caller
   * bypasses the cache; the store counted and logged why (throttled).
   */
  beginFill(digest: Digest, upstream: string, repository: string): Promise<Fill | undefined>;
  /** `beginFill` + `write` + `finish` for bytes already in memory (a manifest whose digest trustgate checked). */
  putBytes(digest: Digest, bytes: Buffer, upstream: string, repository: string): Promise<void>;
  /** Bytes held by committed entries. */
  size(): number;
  close(): Promise<void>;
}

export interface OpenFile {
  readonly handle: FileHandle;
  readonly start: number;
  /** Inclusive; start - 1 for an empty entry. */
  readonly end: number;
}

export interface StoredEntry {
  readonly size: number;
  /** Whether the upstream confirmed this (upstream, repository) has the digest. */
  readonly linked: boolean;
}

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

/**
 * One entry being filled: bytes go to a temporary file and into a hash of the digest's algorithm.
 * A disk error (ENOSPC, EROFS, EIO…) never fails `write`: the fill is marked unusable, its file
 * removed, the bypass counted and logged, and hashing goes on so `matches()` still answers.
 */
export interface Fill {
  /** Hashes the chunk at once; writes it to the temporary file. Resolves when written (backpressure). Never rejects. */
  write(chunk: Buffer): Promise<void>;
  /** Whether every byte written so far hashes to the digest. Call once, after the last write. */
  matches(): boolean;
  /**
   * When `matches()`: fsync, rename into place, link, account the size (evicting the least recently
   * used entries past `maxBytes`). Otherwise, or when the disk failed: removes the temporary file.
   * `mismatch` is counted and logged as a verification failure. Never rejects.
   */
  finish(): Promise<'committed' | 'mismatch' | 'bypassed'>;
  /** Abandons the fill (client gone, upstream failed, a Range answer): the temporary file is removed. Never rejects. */
  abort(): Promise<void>;
}

/** What the store counts (metrics/): bounded labels only. */
export interface BlobStoreEvents {
  evicted(count: number, bytes: number): void;
  verificationFailed(where: 'fill' | 'read'): void;
  bypassed(reason: BypassReason): void;
  sizeChanged(bytes: number): void;
}

export type BypassReason = 'disk_full' | 'read_only' | 'io_error';
