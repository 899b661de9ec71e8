// Shared pieces of the blob store tests: blobs with their digests, a temp directory, counted events,
// a logger that keeps its lines, and a fill of bytes in chunks.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, BlobStoreEvents, BypassReason } from '../../../src/blobcache/types.ts';
import type { Logger } from '../../../src/log/logger.ts';
import { digestOf } from '../../../src/oci/digest.ts';
import type { Digest } from '../../../src/oci/reference.ts';

export const UP = 'docker-hub';
export const REPO = 'library/nginx';

export function blob(size: number, algorithm: 'sha256' | 'sha512' = 'sha256'): { bytes: Buffer; digest: Digest } {
  const bytes = randomBytes(size);
  return { bytes, digest: digestOf(bytes, algorithm) };
}

export function tempDir(prefix = 'tg-blobcache-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Where a committed entry's bytes live (the documented layout). */
export function contentFile(dir: string, digest: Digest): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return join(dir, algorithm, hex);
}

export function tempFiles(dir: string): string[] {
  return readdirSync(join(dir, 'tmp'));
}

export interface CountedEvents extends BlobStoreEvents {
  readonly evictions: { count: number; bytes: number }[];
  readonly failures: { fill: number; read: number };
  readonly bypasses: BypassReason[];
  readonly sizes: number[];
}

export function countedEvents(): CountedEvents {
  const events = {
    evictions: [] as { count: number; bytes: number }[],
    failures: { fill: 0, read: 0 },
    bypasses: [] as BypassReason[],
    sizes: [] as number[],
    evicted(count: number, bytes: number) {
      events.evictions.push({ count, bytes });
    },
    verificationFailed(where: 'fill' | 'read') {
      events.failures[where] += 1;
    },
    bypassed(reason: BypassReason) {
      events.bypasses.push(reason);
    },
    sizeChanged(bytes: number) {
      events.sizes.push(bytes);
    },
  };
  return events;
}

export interface KeptLogger extends Logger {
  readonly warns: { record: Record<string, unknown>; message: string | undefined }[];
}

export function keptLogger(): KeptLogger {
  const warns: KeptLogger['warns'] = [];
  const noop = (): void => {};
  return {
    debug: noop,
    info: noop,
    error: noop,
    warn: (record, message) => void warns.push({ record: record as Record<string, unknown>, message }),
    warns,
  };
}

export function clock(start = 1_800_000_000_000): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}

/** Fills `bytes` in chunks of `chunk`, awaiting each write, and finishes. */
export async function fill(
  store: BlobStore,
  digest: Digest,
  bytes: Buffer,
  options: { upstream?: string; repository?: string; chunk?: number } = {},
): Promise<'committed' | 'mismatch' | 'bypassed' | 'no fill'> {
  const f = await store.beginFill(digest, options.upstream ?? UP, options.repository ?? REPO);
  if (f === undefined) return 'no fill';
  const chunk = options.chunk ?? 65_536;
  for (let i = 0; i < bytes.length; i += chunk) await f.write(bytes.subarray(i, i + chunk));
  f.matches();
  return f.finish();
}

export async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
