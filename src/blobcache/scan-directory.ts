import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/reference.ts';
import { removeTreeQuietly } from './files.ts';
import { ALGORITHMS, classifyName, type Layout } from './layout.ts';
import { MAX_LINKS_FILE_BYTES, parseLinks, type Links } from './links.ts';

export interface ScannedEntry {
  readonly digest: Digest;
  readonly size: number;
  readonly mtimeMs: number;
  readonly links: Links;
}

/** How many stats run at once while scanning a large cache. */
const STAT_BATCH = 64;

/** Creates the directory tree when missing; a tree that exists but is read-only is fine (reads still work). */
export async function ensureTree(layout: Layout): Promise<void> {
  await mkdir(layout.directory, { recursive: true });
  for (const dir of [layout.tmp, ...ALGORITHMS.map((a) => layout.algorithmDirectory(a))]) await mkdir(dir, { recursive: true });
}

/** Removes everything in the temp area: fills and sidecar rewrites of a process that was killed. */
export async function clearTemp(layout: Layout): Promise<void> {
  for (const name of await readdir(layout.tmp).catch(() => [])) await removeTreeQuietly(join(layout.tmp, name));
}

/**
 * The committed entries on disk, least recently used first (by mtime), with their links. Files whose
 * name is no valid digest (or that are not regular files), and links whose content is gone, are removed.
 */
export async function scanEntries(layout: Layout): Promise<ScannedEntry[]> {
  const entries: ScannedEntry[] = [];
  for (const algorithm of ALGORITHMS) {
    const dir = layout.algorithmDirectory(algorithm);
    const content: Digest[] = [];
    const sidecars = new Set<Digest>();
    for (const dirent of await readdir(dir, { withFileTypes: true })) {
      const name = classifyName(algorithm, dirent.name);
      if (name.kind === 'other' || !dirent.isFile()) await removeTreeQuietly(join(dir, dirent.name));
      else if (name.kind === 'content') content.push(name.digest);
      else sidecars.add(name.digest);
    }
    for (let i = 0; i < content.length; i += STAT_BATCH) {
      const batch = await Promise.all(content.slice(i, i + STAT_BATCH).map((digest) => scanOne(layout, digest, sidecars.has(digest))));
      for (const entry of batch) if (entry !== undefined) entries.push(entry);
    }
    const kept = new Set(entries.map((e) => e.digest));
    for (const digest of sidecars) if (!kept.has(digest)) await removeTreeQuietly(layout.linksPath(digest)!);
  }
  return entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

async function scanOne(layout: Layout, digest: Digest, hasLinks: boolean): Promise<ScannedEntry | undefined> {
  try {
    const { size, mtimeMs } = await stat(layout.contentPath(digest)!);
    return { digest, size, mtimeMs, links: hasLinks ? await readLinks(layout.linksPath(digest)!) : new Map() };
  } catch {
    return undefined; // gone meanwhile (another process sharing the directory evicted it)
  }
}

async function readLinks(path: string): Promise<Links> {
  try {
    const handle = await open(path, 'r');
    try {
      if ((await handle.stat()).size > MAX_LINKS_FILE_BYTES) return new Map();
      return parseLinks(await handle.readFile('utf8'));
    } finally {
      await handle.close();
    }
  } catch {
    return new Map(); // unreadable links are no links: the upstream is asked again
  }
}
