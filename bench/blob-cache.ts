// The second trustgate's blob cache (#15): the config lines that turn it on, and how
// much it holds on disk (the report shows it next to the -cached rows, so a row
// measured before the cache was wired in, or with the cache not filling, says so).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The config lines that turn the blob cache on, caching into `dir` (it needs gate.blobGate, on by default). */
export const blobCacheLines = (dir: string): string[] => ['blobCache:', '  enabled: true', `  directory: ${JSON.stringify(dir)}`];

/** Bytes in the regular files under `dir`, recursively; 0 when it does not exist. */
export async function dirBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
