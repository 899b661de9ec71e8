// sendFile reuses its read buffers: each must stay untouched until the write that carried it has
// completed. A slow destination that checks every chunk's bytes only when it finishes writing it
// would see a buffer read into again too early.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { sendFile } from '../../src/blobcache/send-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-send-file-'));
const bytes = randomBytes(5 * 1_048_576 + 12_345);
const path = join(dir, 'blob');
writeFileSync(path, bytes);
after(() => rmSync(dir, { recursive: true, force: true }));

/** A destination that finishes each write later, and only then checks the chunk against the file. */
function slowChecker(start: number, highWaterMark = 1024): { out: Writable; received: () => number; mismatches: () => number } {
  let offset = start;
  let mismatches = 0;
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      const at = offset;
      offset += chunk.length;
      setTimeout(() => {
        if (!chunk.equals(bytes.subarray(at, at + chunk.length))) mismatches += 1;
        callback();
      }, 2);
    },
  });
  return { out, received: () => offset - start, mismatches: () => mismatches };
}

describe('sendFile', () => {
  it('sends the whole file, and no buffer is read into before its write completed', async () => {
    const handle = await open(path, 'r');
    try {
      // A small highWaterMark makes sendFile wait for each drain; a big one lets writes queue up, each
      // holding its buffer, while sendFile reads on.
      for (const highWaterMark of [1024, 64 * 1_048_576, 1024]) {
        const { out, received, mismatches } = slowChecker(0, highWaterMark);
        assert.equal(await sendFile(handle, 0, bytes.length - 1, out), bytes.length);
        await new Promise<void>((resolve) => out.end(resolve));
        assert.equal(received(), bytes.length);
        assert.equal(mismatches(), 0);
      }
    } finally {
      await handle.close();
    }
  });

  it('sends exactly a range, and nothing for an empty one', async () => {
    const handle = await open(path, 'r');
    try {
      const { out, received, mismatches } = slowChecker(1_000_000);
      assert.equal(await sendFile(handle, 1_000_000, 3_500_000, out), 2_500_001);
      await new Promise<void>((resolve) => out.end(resolve));
      assert.equal(received(), 2_500_001);
      assert.equal(mismatches(), 0);
      const empty = slowChecker(0);
      assert.equal(await sendFile(handle, 0, -1, empty.out), 0);
    } finally {
      await handle.close();
    }
  });

  it('stops when the destination closes, and when the file is shorter than asked', async () => {
    const handle = await open(path, 'r');
    try {
      const gone = new Writable({ highWaterMark: 1, write: (_chunk, _encoding, callback) => setTimeout(callback, 5) });
      setTimeout(() => gone.destroy(), 1);
      await assert.rejects(sendFile(handle, 0, bytes.length - 1, gone), /closed before the file was sent/);
      const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      await assert.rejects(sendFile(handle, 0, bytes.length + 10, sink), /the file ended at/);
    } finally {
      await handle.close();
    }
  });
});
