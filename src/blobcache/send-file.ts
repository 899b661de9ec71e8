import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** Bytes read per chunk: fewer, larger reads and writes cost less CPU per byte (bench/ cached-blob profile, #15). */
const CHUNK_BYTES = 1_048_576;
/** Chunk buffers kept for reuse across requests; more are allocated under load and left to the GC. */
const POOL_MAX = 16;
const pool: Buffer[] = [];

/**
 * Writes bytes `start`..`end` (inclusive) of an open file to `out`, reading into buffers that are
 * reused once the write that carried them completed. Streaming with `createReadStream` allocates a
 * buffer per read and turns every read into external memory for the GC to collect: on a 10 MiB blob
 * served from disk that was about a third of trustgate's CPU per request. Waits on backpressure;
 * stops (rejecting) when `out` closes first. Returns the bytes handed to `out`. The handle stays open.
 */
export async function sendFile(handle: FileHandle, start: number, end: number, out: Writable): Promise<number> {
  let position = start;
  let sent = 0;
  while (position <= end) {
    if (out.destroyed) throw new Error('the destination closed before the file was sent');
    const buffer = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, end - position + 1), position);
    if (bytesRead === 0) {
      release(buffer);
      throw new Error(`the file ended at ${position}, before ${end + 1}`);
    }
    position += bytesRead;
    sent += bytesRead;
    // The buffer is the socket's until this write completes; only then may it be read into again.
    const room = out.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), (error) => {
      if (error === null || error === undefined) release(buffer);
    });
    if (!room) await drained(out);
  }
  return sent;
}

function release(buffer: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buffer);
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed) {
      reject(new Error('the destination closed before the file was sent'));
      return;
    }
    const onDrain = (): void => {
      out.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      out.off('drain', onDrain);
      reject(new Error('the destination closed before the file was sent'));
    };
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}
