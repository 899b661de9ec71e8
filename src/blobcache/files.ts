// Small filesystem helpers for the store: every one is best effort where the store can go on without it.
import { createHash } from 'node:crypto';
import { open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import type { Algorithm } from './layout.ts';

/** Big reads for throughput: a layer is streamed in chunks this size (hashing and serving alike). */
export const READ_CHUNK_BYTES = 256 * 1024;

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}

export async function removeTreeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => {});
}

/** fsync a directory so a rename in it survives a power cut; some filesystems refuse, which is fine. */
export async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // Best effort: the rename is atomic either way; only its durability across a power cut is at stake.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Writes `text` to `temp`, fsyncs it and renames it over `path`: readers see the old file or the new one, never half. */
export async function writeFileAtomic(temp: string, path: string, text: string): Promise<void> {
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
}

/** Hashes a whole open file from its start, streaming: never the file in memory. */
export async function hashFile(handle: FileHandle, algorithm: Algorithm): Promise<{ hex: string; bytes: number }> {
  const hash = createHash(algorithm);
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return { hex: hash.digest('hex'), bytes: position };
}

/** Reads exactly `length` bytes from the start of an open file; fewer when the file is short. */
export async function readWhole(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let position = 0;
  while (position < length) {
    const { bytesRead } = await handle.read(buffer, position, length - position, position);
    if (bytesRead === 0) break;
    position += bytesRead;
  }
  return buffer.subarray(0, position);
}
