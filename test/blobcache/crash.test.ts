import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { openBlobStore } from '../../src/blobcache/store.ts';
import { noopLogger } from '../../src/log/logger.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { contentFile, countedEvents, tempDir, tempFiles } from './helpers/kit.ts';

const dir = tempDir('tg-blobcache-crash-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the child, waits for its `written` line (no sleeps), and returns it with what it wrote. */
async function startFill(): Promise<{ kill(): Promise<NodeJS.Signals | null>; digest: Digest; written: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'fill-and-hang.ts'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const lines = createInterface({ input: child.stdout });
  const line = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the fill child exited (${code}) before writing`)));
  });
  lines.close();
  const [word, digest, written] = line.split(' ');
  assert.equal(word, 'written', line);
  return {
    digest: digest as Digest,
    written: Number(written),
    kill: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

describe('blob store › a process killed mid-fill', () => {
  it('leaves nothing servable: the lookup misses, no content file, and the next open empties the temp area', async () => {
    const child = await startFill();
    const leftovers = tempFiles(dir);
    assert.equal(leftovers.length, 1, 'the fill was writing its temp file');
    assert.equal(statSync(join(dir, 'tmp', leftovers[0]!)).size, child.written);
    assert.equal(await child.kill(), 'SIGKILL');

    assert.equal(tempFiles(dir).length, 1, 'the killed process left its temp file');
    const events = countedEvents();
    const store = await openBlobStore({ directory: dir, maxBytes: 1_073_741_824, logger: noopLogger, events });
    assert.deepEqual(tempFiles(dir), []);
    assert.equal(store.lookup(child.digest, 'docker-hub', 'library/big'), undefined);
    assert.equal(await store.open(child.digest), undefined);
    assert.equal(existsSync(contentFile(dir, child.digest)), false);
    assert.deepEqual(readdirSync(join(dir, 'sha256')), []);
    assert.equal(store.size(), 0);
    assert.equal(events.sizes.at(-1), 0);
    await store.close();
  });
});
