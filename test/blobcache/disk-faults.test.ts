import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { classifyDiskError, FAULT_BACKOFF_MS, FAULT_LOG_INTERVAL_MS } from '../../src/blobcache/disk-faults.ts';
import { openBlobStore } from '../../src/blobcache/store.ts';
import { blob, clock, contentFile, countedEvents, drain, fill, keptLogger, REPO, tempDir, tempFiles, UP } from './helpers/kit.ts';

// Real small filesystems (tmpfs, mounted as root): no mocked fs.

interface Mount {
  readonly dir: string;
  remount(mode: 'ro' | 'rw'): void;
  /** Runs before the unmount (closing a store on it). */
  beforeUnmount(step: () => Promise<void>): void;
}

/** A 2 MiB tmpfs, unmounted when the test ends (pass or fail). Mount failures fail the test loudly. */
function mountTmpfs(t: TestContext, size = '2m'): Mount {
  const dir = tempDir('tg-blobcache-fs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmdirSync(dir);
    throw new Error(`these tests need root and tmpfs: mount -t tmpfs -o size=${size} tmpfs ${dir} failed: ${String(error)}`);
  }
  const steps: (() => Promise<void>)[] = [];
  t.after(async () => {
    try {
      for (const step of steps) await step();
    } finally {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmdirSync(dir);
    }
  });
  return {
    dir,
    remount: (mode) => void execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' }),
    beforeUnmount: (step) => void steps.push(step),
  };
}

/** Writes filler files until the filesystem refuses; returns their paths. */
function fillDisk(dir: string): string[] {
  const files: string[] = [];
  for (let i = 0; ; i++) {
    const path = join(dir, `filler-${i}`);
    try {
      writeFileSync(path, Buffer.alloc(64 * 1024, 1));
      files.push(path);
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'ENOSPC');
      rmSync(path, { force: true });
      return files;
    }
  }
}

describe('disk errors as bypass reasons', () => {
  const cases: [string | undefined, string][] = [
    ['ENOSPC', 'disk_full'],
    ['EDQUOT', 'disk_full'],
    ['EROFS', 'read_only'],
    ['EACCES', 'read_only'],
    ['EPERM', 'read_only'],
    ['EIO', 'io_error'],
    ['EMFILE', 'io_error'],
    [undefined, 'io_error'],
  ];
  for (const [code, reason] of cases) {
    it(`${code ?? 'no code'} › ${reason}`, () => {
      assert.equal(classifyDiskError(Object.assign(new Error('x'), { code })), reason);
    });
  }
});

describe('blob store › a full disk (2 MiB tmpfs)', () => {
  it('bypasses a fill bigger than the filesystem: still hashed whole, nothing kept, then recovers after its back-off', async (t) => {
    const { dir, beforeUnmount } = mountTmpfs(t);
    const events = countedEvents();
    const logger = keptLogger();
    const time = clock();
    const store = await openBlobStore({ directory: dir, maxBytes: 64 * 1_048_576, logger, events, now: time.now });
    beforeUnmount(() => store.close());

    const { bytes, digest } = blob(3 * 1_048_576);
    const f = (await store.beginFill(digest, UP, REPO))!;
    assert.ok(f, 'a fill starts: the disk is empty');
    for (let i = 0; i < bytes.length; i += 65_536) await f.write(bytes.subarray(i, i + 65_536));
    assert.equal(f.matches(), true, 'every byte was hashed, the ones past the fault too');
    assert.equal(await f.finish(), 'bypassed');
    assert.deepEqual(events.bypasses, ['disk_full']);
    assert.equal(store.lookup(digest, UP, REPO), undefined);
    assert.equal(existsSync(contentFile(dir, digest)), false);
    assert.deepEqual(tempFiles(dir), [], 'the partial temp file is removed');
    assert.equal(store.size(), 0);
    assert.equal(logger.warns.length, 1);
    assert.equal(logger.warns[0]!.record.reason, 'disk_full');
    assert.equal(logger.warns[0]!.record.digest, digest);

    // Within the back-off no fill is tried (nor logged again), but each is counted as a bypass.
    const small = blob(100_000);
    assert.equal(await store.beginFill(small.digest, UP, REPO), undefined);
    assert.deepEqual(events.bypasses, ['disk_full', 'disk_full']);
    assert.equal(logger.warns.length, 1, 'throttled');

    time.advance(FAULT_BACKOFF_MS);
    assert.equal(await fill(store, small.digest, small.bytes), 'committed', 'recovered by itself');
    assert.ok((await drain((await store.open(small.digest))!)).equals(small.bytes));
    assert.deepEqual(events.bypasses, ['disk_full', 'disk_full']);
  });

  it('bypasses while something else filled the disk, logs once per reason per 10 s, and recovers once space is freed', async (t) => {
    const { dir, beforeUnmount } = mountTmpfs(t);
    const events = countedEvents();
    const logger = keptLogger();
    const time = clock();
    const store = await openBlobStore({ directory: dir, maxBytes: 64 * 1_048_576, logger, events, now: time.now });
    beforeUnmount(() => store.close());
    const fillers = fillDisk(dir);
    assert.ok(fillers.length > 0);

    const a = blob(200_000);
    assert.equal(await fill(store, a.digest, a.bytes), 'bypassed');
    time.advance(FAULT_BACKOFF_MS);
    const b = blob(200_000);
    assert.equal(await fill(store, b.digest, b.bytes), 'bypassed', 'still full after the back-off: tried again, bypassed again');
    assert.deepEqual(events.bypasses, ['disk_full', 'disk_full']);
    assert.equal(logger.warns.length, 1, 'the second line within 10 s is held back');
    assert.deepEqual(tempFiles(dir), []);

    time.advance(FAULT_LOG_INTERVAL_MS);
    assert.equal(await fill(store, b.digest, b.bytes), 'bypassed');
    assert.equal(logger.warns.length, 2, '10 s later a line again');
    assert.equal(logger.warns[1]!.record.suppressed, 1, 'the next line counts the ones held back');

    for (const file of fillers) rmSync(file);
    time.advance(FAULT_BACKOFF_MS);
    assert.equal(await fill(store, b.digest, b.bytes), 'committed');
    assert.equal(store.lookup(a.digest, UP, REPO), undefined);
    assert.deepEqual(store.lookup(b.digest, UP, REPO), { size: 200_000, linked: true });
  });
});

describe('blob store › a read-only disk', () => {
  it('starts no fill while read-only, still serves what it holds, and fills again after a remount and its back-off', async (t) => {
    const { dir, remount, beforeUnmount } = mountTmpfs(t);
    const events = countedEvents();
    const logger = keptLogger();
    const time = clock();
    const store = await openBlobStore({ directory: dir, maxBytes: 64 * 1_048_576, logger, events, now: time.now });
    beforeUnmount(() => store.close());
    const kept = blob(50_000);
    assert.equal(await fill(store, kept.digest, kept.bytes), 'committed');

    remount('ro');
    const x = blob(50_000);
    assert.equal(await store.beginFill(x.digest, UP, REPO), undefined);
    assert.deepEqual(events.bypasses, ['read_only']);
    assert.equal(logger.warns[0]!.record.reason, 'read_only');
    assert.ok((await drain((await store.open(kept.digest))!)).equals(kept.bytes), 'reads go on');

    // A store opened on the read-only directory works for reads too (nothing to create, temp area not writable).
    const reader = await openBlobStore({ directory: dir, maxBytes: 64 * 1_048_576, logger, events: countedEvents() });
    assert.ok((await reader.readBytes(kept.digest, 50_000))!.equals(kept.bytes));
    await reader.close();

    remount('rw');
    assert.equal(await store.beginFill(x.digest, UP, REPO), undefined, 'still backing off');
    time.advance(FAULT_BACKOFF_MS);
    assert.equal(await fill(store, x.digest, x.bytes), 'committed');
    assert.deepEqual(events.bypasses, ['read_only', 'read_only']);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
