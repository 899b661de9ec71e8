import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openBlobStore } from '../../src/blobcache/store.ts';
import { MAX_LINKS_PER_ENTRY } from '../../src/blobcache/links.ts';
import type { BlobStoreEvents } from '../../src/blobcache/types.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { digestOf } from '../../src/oci/digest.ts';
import type { Digest } from '../../src/oci/reference.ts';
import { blob, clock, contentFile, countedEvents, drain, fill, REPO, tempDir, tempFiles, UP } from './helpers/kit.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

function open(dir: string, maxBytes = 64 * 1_048_576, events?: BlobStoreEvents, now?: () => number) {
  return openBlobStore({ directory: dir, maxBytes, logger: noopLogger, events, now });
}

describe('blob store › fills', () => {
  for (const algorithm of ['sha256', 'sha512'] as const) {
    it(`stores a ${algorithm} blob byte for byte, once, under its digest, linked to the filling repository`, async () => {
      const dir = newDir();
      const events = countedEvents();
      const store = await open(dir, undefined, events);
      const { bytes, digest } = blob(300_000, algorithm);
      assert.equal(await fill(store, digest, bytes, { chunk: 7_000 }), 'committed');
      assert.deepEqual(store.lookup(digest, UP, REPO), { size: bytes.length, linked: true });
      assert.deepEqual(store.lookup(digest, UP, 'library/other'), { size: bytes.length, linked: false });
      assert.deepEqual(store.lookup(digest, 'quay', REPO), { size: bytes.length, linked: false });
      const read = await drain((await store.open(digest))!);
      assert.ok(read.equals(bytes));
      assert.equal(digestOf(read, algorithm), digest);
      assert.ok((await store.readBytes(digest, bytes.length))!.equals(bytes));
      assert.ok(readFileSync(contentFile(dir, digest)).equals(bytes), 'the content file is the blob');
      assert.equal(store.size(), bytes.length);
      assert.equal(events.sizes.at(-1), bytes.length);
      assert.deepEqual(tempFiles(dir), []);
      await store.close();
    });
  }

  it('refuses a fill with one wrong byte: mismatch, nothing stored, no temp file, counted', async () => {
    const dir = newDir();
    const events = countedEvents();
    const store = await open(dir, undefined, events);
    const { bytes, digest } = blob(200_000);
    const bad = Buffer.from(bytes);
    bad[123_456] = bad[123_456]! ^ 0x01;
    const f = (await store.beginFill(digest, UP, REPO))!;
    await f.write(bad);
    assert.equal(f.matches(), false);
    assert.equal(await f.finish(), 'mismatch');
    assert.equal(store.lookup(digest, UP, REPO), undefined);
    assert.equal(await store.open(digest), undefined);
    assert.equal(existsSync(contentFile(dir, digest)), false);
    assert.deepEqual(tempFiles(dir), []);
    assert.equal(events.failures.fill, 1);
    assert.equal(store.size(), 0);
    await store.close();
  });

  it('keeps nothing of an aborted fill (a Range answer, a client gone)', async () => {
    const dir = newDir();
    const store = await open(dir);
    const { bytes, digest } = blob(100_000);
    const f = (await store.beginFill(digest, UP, REPO))!;
    await f.write(bytes.subarray(0, 50_000));
    assert.equal(tempFiles(dir).length, 1, 'the fill writes to the temp area');
    await f.abort();
    assert.deepEqual(tempFiles(dir), []);
    assert.equal(store.lookup(digest, UP, REPO), undefined);
    assert.equal(await store.open(digest), undefined);
    assert.equal(existsSync(contentFile(dir, digest)), false);
    assert.equal(await f.finish(), 'bypassed', 'finishing an aborted fill commits nothing');
    assert.equal(store.lookup(digest, UP, REPO), undefined, 'a second lookup misses too');
    await store.close();
  });

  it('putBytes stores bytes already in memory; readBytes refuses an entry larger than asked', async () => {
    const dir = newDir();
    const store = await open(dir);
    const { bytes, digest } = blob(2_000);
    await store.putBytes(digest, bytes, UP, REPO);
    assert.ok((await store.readBytes(digest, 2_000))!.equals(bytes));
    assert.equal(await store.readBytes(digest, 1_999), undefined);
    await store.close();
  });

  it('builds no path from anything but a valid digest', async () => {
    const dir = newDir();
    const store = await open(dir);
    for (const digest of ['sha256:../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha384:${'a'.repeat(96)}`, `sha256:${'a'.repeat(63)}`]) {
      assert.equal(await store.beginFill(digest as Digest, UP, REPO), undefined, digest);
      assert.equal(await store.open(digest as Digest), undefined, digest);
      assert.equal(store.lookup(digest as Digest, UP, REPO), undefined, digest);
    }
    const { bytes, digest } = blob(1_000);
    assert.equal(await fill(store, digest, bytes, { upstream: '../../up', repository: '../../../x/y' }), 'committed');
    const [, hex] = digest.split(':');
    assert.deepEqual(readdirSync(dir).sort(), ['sha256', 'sha512', 'tmp']);
    assert.deepEqual(readdirSync(join(dir, 'sha256')).sort(), [hex, `${hex}.links`]);
    assert.deepEqual(store.lookup(digest, '../../up', '../../../x/y'), { size: 1_000, linked: true });
    await store.close();
  });
});

describe('blob store › reads', () => {
  it('returns exactly the bytes of a range, clamping an end past the last byte', async () => {
    const dir = newDir();
    const store = await open(dir);
    const { bytes, digest } = blob(1_000_000);
    await fill(store, digest, bytes);
    for (const [start, end] of [
      [0, 0],
      [0, 999_999],
      [1, 1],
      [262_143, 262_144],
      [500_000, 999_999],
      [999_999, 999_999],
      [10, 20],
    ] as const) {
      const read = await drain((await store.open(digest, { start, end }))!);
      assert.ok(read.equals(bytes.subarray(start, end + 1)), `${start}-${end}`);
    }
    assert.ok((await drain((await store.open(digest, { start: 999_990, end: 5_000_000 }))!)).equals(bytes.subarray(999_990)));
    await assert.rejects(store.open(digest, { start: 1_000_000, end: 1_000_001 }), TypeError);
    await assert.rejects(store.open(digest, { start: 5, end: 4 }), TypeError);
    await store.close();
  });

  it('finishes a read that was open when its entry was evicted', async () => {
    const dir = newDir();
    const store = await open(dir, 600_000);
    const first = blob(400_000);
    await fill(store, first.digest, first.bytes);
    const stream = (await store.open(first.digest))!;
    const second = blob(400_000);
    await fill(store, second.digest, second.bytes);
    assert.equal(store.lookup(first.digest, UP, REPO), undefined, 'evicted');
    assert.equal(existsSync(contentFile(dir, first.digest)), false, 'unlinked');
    assert.ok((await drain(stream)).equals(first.bytes), 'the open read still gets every byte');
    await store.close();
  });

  it('never serves a committed file cut short, even after it was read once', async () => {
    const dir = newDir();
    const events = countedEvents();
    const store = await open(dir, undefined, events);
    const { bytes, digest } = blob(100_000);
    await fill(store, digest, bytes);
    assert.ok((await drain((await store.open(digest))!)).equals(bytes));
    truncateSync(contentFile(dir, digest), 60_000);
    assert.equal(await store.open(digest), undefined);
    assert.equal(await store.readBytes(digest, 1_000_000), undefined);
    assert.equal(existsSync(contentFile(dir, digest)), false);
    assert.equal(store.lookup(digest, UP, REPO), undefined);
    assert.equal(events.failures.read, 1);
    assert.equal(store.size(), 0);
    await store.close();
  });

  it('counts a committed file that vanished as a failed read, and forgets it', async () => {
    const dir = newDir();
    const events = countedEvents();
    const store = await open(dir, undefined, events);
    const { bytes, digest } = blob(10_000);
    await fill(store, digest, bytes);
    rmSync(contentFile(dir, digest));
    assert.equal(await store.open(digest), undefined);
    assert.equal(store.lookup(digest, UP, REPO), undefined);
    assert.equal(events.failures.read, 1);
    assert.equal(store.size(), 0);
    await store.close();
  });
});

describe('blob store › links', () => {
  it('links a repository the upstream confirmed, keeps the newest 256, and ignores a digest it does not hold', async () => {
    const dir = newDir();
    const store = await open(dir);
    const { bytes, digest } = blob(1_000);
    await fill(store, digest, bytes, { repository: 'r/0' });
    for (let i = 1; i <= MAX_LINKS_PER_ENTRY; i++) await store.link(digest, UP, `r/${i}`);
    assert.equal(store.lookup(digest, UP, 'r/0')?.linked, false, 'the oldest link was dropped');
    assert.equal(store.lookup(digest, UP, 'r/1')?.linked, true);
    assert.equal(store.lookup(digest, UP, `r/${MAX_LINKS_PER_ENTRY}`)?.linked, true);
    const missing = blob(10).digest;
    await store.link(missing, UP, REPO);
    assert.equal(store.lookup(missing, UP, REPO), undefined);
    await store.close();
    const reopened = await open(dir);
    assert.equal(reopened.lookup(digest, UP, 'r/0')?.linked, false);
    assert.equal(reopened.lookup(digest, UP, 'r/1')?.linked, true);
    assert.equal(reopened.lookup(digest, UP, `r/${MAX_LINKS_PER_ENTRY}`)?.linked, true);
    await reopened.close();
  });
});

describe('blob store › eviction', () => {
  it('keeps at most maxBytes, evicting the least recently used (a recent read survives)', async () => {
    const dir = newDir();
    const events = countedEvents();
    const store = await open(dir, 3_000, events);
    const [a, b, c, d] = [blob(1_000), blob(1_000), blob(1_000), blob(1_000)];
    for (const x of [a, b, c]) assert.equal(await fill(store, x.digest, x.bytes), 'committed');
    assert.equal(store.size(), 3_000);
    assert.deepEqual(events.evictions, []);
    await drain((await store.open(a.digest))!); // a is now the most recently used; b the least
    assert.equal(await fill(store, d.digest, d.bytes), 'committed');
    assert.equal(store.lookup(b.digest, UP, REPO), undefined, 'b evicted');
    assert.equal(existsSync(contentFile(dir, b.digest)), false);
    assert.equal(existsSync(`${contentFile(dir, b.digest)}.links`), false);
    for (const x of [a, c, d]) assert.ok(store.lookup(x.digest, UP, REPO), 'kept');
    assert.deepEqual(events.evictions, [{ count: 1, bytes: 1_000 }]);
    assert.equal(store.size(), 3_000);
    assert.equal(events.sizes.at(-1), 3_000);

    const big = blob(2_500);
    assert.equal(await fill(store, big.digest, big.bytes), 'committed');
    assert.ok(store.lookup(big.digest, UP, REPO), 'the entry just committed is never evicted for itself');
    assert.deepEqual(events.evictions.at(-1), { count: 3, bytes: 3_000 }, 'everything else had to go');
    assert.equal(store.size(), 2_500);
    await store.close();
  });

  it('keeps nothing of a blob larger than the whole cache, and evicts nothing for it', async () => {
    const dir = newDir();
    const events = countedEvents();
    const store = await open(dir, 3_000, events);
    const small = blob(1_000);
    await fill(store, small.digest, small.bytes);
    const huge = blob(3_001);
    const f = (await store.beginFill(huge.digest, UP, REPO))!;
    await f.write(huge.bytes.subarray(0, 2_000));
    await f.write(huge.bytes.subarray(2_000));
    assert.equal(f.matches(), true, 'still hashed whole');
    assert.equal(await f.finish(), 'bypassed');
    assert.equal(store.lookup(huge.digest, UP, REPO), undefined);
    assert.ok(store.lookup(small.digest, UP, REPO));
    assert.deepEqual(events.evictions, []);
    assert.deepEqual(events.bypasses, [], 'not a disk fault');
    assert.deepEqual(tempFiles(dir), []);
    await store.close();
  });

  it('counts a digest filled twice (two racing fills, or two stores on one directory) once', async () => {
    const dir = newDir();
    const events = countedEvents();
    const store = await open(dir, undefined, events);
    const other = await open(dir);
    const { bytes, digest } = blob(150_000);
    const f1 = (await store.beginFill(digest, UP, 'r/one'))!;
    const f2 = (await store.beginFill(digest, UP, 'r/two'))!;
    const f3 = (await other.beginFill(digest, UP, 'r/three'))!;
    for (let i = 0; i < bytes.length; i += 10_000) {
      const chunk = bytes.subarray(i, i + 10_000);
      await Promise.all([f1.write(chunk), f2.write(chunk), f3.write(chunk)]);
    }
    assert.deepEqual(await Promise.all([f1.finish(), f3.finish(), f2.finish()]), ['committed', 'committed', 'committed']);
    assert.equal(store.size(), bytes.length);
    assert.equal(events.sizes.at(-1), bytes.length);
    assert.equal(store.lookup(digest, UP, 'r/one')?.linked, true);
    assert.equal(store.lookup(digest, UP, 'r/two')?.linked, true);
    assert.ok((await drain((await store.open(digest))!)).equals(bytes));
    assert.ok((await drain((await other.open(digest))!)).equals(bytes));
    assert.deepEqual(tempFiles(dir), []);
    await Promise.all([store.close(), other.close()]);
  });
});

describe('blob store › restart', () => {
  it('keeps entries and links across a new openBlobStore, and removes temp leftovers and stray files', async () => {
    const dir = newDir();
    const first = await open(dir);
    const a = blob(5_000);
    const b = blob(7_000, 'sha512');
    await fill(first, a.digest, a.bytes);
    await fill(first, b.digest, b.bytes, { upstream: 'ghcr', repository: 'org/app' });
    await first.link(a.digest, UP, 'library/other');
    const leftover = await first.beginFill(blob(10).digest, UP, REPO);
    await leftover!.write(Buffer.alloc(10));
    await first.close();
    writeFileSync(join(dir, 'tmp', 'killed-fill'), 'partial');
    mkdirSync(join(dir, 'tmp', 'killed-dir'));
    writeFileSync(join(dir, 'sha256', 'not-a-digest'), 'x');
    writeFileSync(join(dir, 'sha256', `${'A'.repeat(64)}`), 'x');
    writeFileSync(join(dir, 'sha512', `${'c'.repeat(64)}`), 'x');
    writeFileSync(join(dir, 'sha256', `${'d'.repeat(64)}.links`), '{"links":[]}');

    const events = countedEvents();
    const second = await open(dir, undefined, events);
    assert.deepEqual(tempFiles(dir), []);
    assert.deepEqual(readdirSync(join(dir, 'sha256')).sort(), [a.digest.slice(7), `${a.digest.slice(7)}.links`].sort());
    assert.equal(readdirSync(join(dir, 'sha512')).length, 2);
    assert.equal(second.size(), 12_000);
    assert.equal(events.sizes.at(-1), 12_000);
    assert.deepEqual(second.lookup(a.digest, UP, REPO), { size: 5_000, linked: true });
    assert.deepEqual(second.lookup(a.digest, UP, 'library/other'), { size: 5_000, linked: true });
    assert.deepEqual(second.lookup(b.digest, 'ghcr', 'org/app'), { size: 7_000, linked: true });
    assert.deepEqual(second.lookup(b.digest, UP, REPO), { size: 7_000, linked: false });
    assert.ok((await drain((await second.open(a.digest))!)).equals(a.bytes));
    assert.ok((await second.readBytes(b.digest, 10_000))!.equals(b.bytes));
    assert.equal(events.failures.read, 0);
    await second.close();
  });

  it('orders entries by mtime on restart (most recent last), and a read moves mtime forward', async () => {
    const dir = newDir();
    const time = clock(Date.now());
    const first = await open(dir, undefined, undefined, time.now);
    const blobs = [blob(1_000), blob(1_000), blob(1_000)];
    for (const x of blobs) await fill(first, x.digest, x.bytes);
    // mtimes against the directory's listing order (newest first), so an index that skipped the sort would evict wrongly.
    const listed = readdirSync(join(dir, 'sha256')).filter((n) => !n.endsWith('.links'));
    const [n0, n1, n2] = listed.map((name) => blobs.find((x) => x.digest === `sha256:${name}`)!);
    const base = Date.now() / 1000 - 3_600;
    utimesSync(contentFile(dir, n0!.digest), base + 30, base + 30);
    utimesSync(contentFile(dir, n1!.digest), base + 20, base + 20);
    utimesSync(contentFile(dir, n2!.digest), base + 10, base + 10);
    time.advance(61_000);
    await drain((await first.open(n2!.digest))!);
    await first.close();
    assert.ok(statSync(contentFile(dir, n2!.digest)).mtimeMs > (base + 30) * 1000, 'the read touched the oldest');

    // Order now: n1 (oldest), n0, n2. A fourth entry in a 3,000-byte cache evicts n1.
    const second = await open(dir, 3_000);
    const d = blob(1_000);
    await fill(second, d.digest, d.bytes);
    assert.equal(second.lookup(n1!.digest, UP, REPO), undefined);
    for (const x of [n0!, n2!, d]) assert.ok(second.lookup(x.digest, UP, REPO));
    await second.close();
  });

  it('evicts at open when the directory holds more than maxBytes', async () => {
    const dir = newDir();
    const first = await open(dir);
    for (let i = 0; i < 4; i++) {
      const x = blob(1_000);
      await fill(first, x.digest, x.bytes);
    }
    await first.close();
    const events = countedEvents();
    const second = await open(dir, 2_500, events);
    assert.equal(second.size(), 2_000);
    assert.deepEqual(events.evictions, [{ count: 2, bytes: 2_000 }]);
    assert.equal(readdirSync(join(dir, 'sha256')).filter((n) => !n.endsWith('.links')).length, 2);
    await second.close();
  });

  it('hashes an entry on its first read after a restart: a flipped byte is deleted, never served', async () => {
    const dir = newDir();
    const first = await open(dir);
    const { bytes, digest } = blob(600_000);
    await fill(first, digest, bytes);
    await first.close();
    const file = contentFile(dir, digest);
    const onDisk = readFileSync(file);
    onDisk[599_999] = onDisk[599_999]! ^ 0x80;
    writeFileSync(file, onDisk);

    const events = countedEvents();
    const second = await open(dir, undefined, events);
    assert.ok(second.lookup(digest, UP, REPO), 'indexed, not yet hashed');
    assert.equal(await second.open(digest, { start: 0, end: 9 }), undefined, 'not even a range of it');
    assert.equal(existsSync(file), false);
    assert.equal(existsSync(`${file}.links`), false);
    assert.equal(second.lookup(digest, UP, REPO), undefined);
    assert.equal(events.failures.read, 1);
    assert.equal(second.size(), 0);
    await second.close();
  });

  it('never serves a committed file left short on disk (readBytes or open)', async () => {
    const dir = newDir();
    const first = await open(dir);
    const x = blob(50_000);
    const y = blob(50_000);
    await fill(first, x.digest, x.bytes);
    await fill(first, y.digest, y.bytes);
    await first.close();
    truncateSync(contentFile(dir, x.digest), 49_999);
    truncateSync(contentFile(dir, y.digest), 0);
    const events = countedEvents();
    const second = await open(dir, undefined, events);
    assert.equal(await second.readBytes(x.digest, 100_000), undefined);
    assert.equal(await second.open(y.digest), undefined);
    assert.equal(existsSync(contentFile(dir, x.digest)), false);
    assert.equal(existsSync(contentFile(dir, y.digest)), false);
    assert.equal(events.failures.read, 2);
    await second.close();
  });

  it('serves a good entry after a restart, range reads included, and hashes concurrent first reads once', async () => {
    const dir = newDir();
    const first = await open(dir);
    const { bytes, digest } = blob(700_000);
    await fill(first, digest, bytes);
    await first.close();
    const events = countedEvents();
    const second = await open(dir, undefined, events);
    const [whole, part] = await Promise.all([second.open(digest), second.open(digest, { start: 300_000, end: 300_099 })]);
    assert.ok((await drain(whole!)).equals(bytes));
    assert.ok((await drain(part!)).equals(bytes.subarray(300_000, 300_100)));
    assert.equal(events.failures.read, 0);
    await second.close();
  });
});

describe('blob store › close', () => {
  it('abandons fills in progress and answers nothing after', async () => {
    const dir = newDir();
    const store = await open(dir);
    const { bytes, digest } = blob(10_000);
    const f = (await store.beginFill(digest, UP, REPO))!;
    await f.write(bytes);
    await store.close();
    assert.deepEqual(tempFiles(dir), []);
    assert.equal(await f.finish(), 'bypassed');
    assert.equal(await store.beginFill(digest, UP, REPO), undefined);
    const reopened = await open(dir);
    assert.equal(reopened.lookup(digest, UP, REPO), undefined);
    await reopened.close();
  });
});
