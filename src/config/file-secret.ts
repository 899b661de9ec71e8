// Secrets kept in files that change while trustgate runs (rotated cloud tokens). Only the reading
// half of config loading (references.ts) uses it: parsing stays free of I/O.
import { readFileSync, statSync } from 'node:fs';
import { Secret } from './secret.ts';

/** How often a file secret's file is looked at again, at most. */
const RECHECK_MS = 1_000;

/**
 * A secret kept in a file and read again when the file changes (its inode, size, mtime or ctime), looked
 * at no more than once a second: short-lived cloud tokens (ECR's 12-hour password, a GCP access
 * token) are rotated by rewriting the file, with no restart. A file that cannot be read or is
 * empty keeps the last good value (a writer mid-rename, say).
 */
export function fileSecret(path: string, first: string, clock: () => number = () => performance.now()): Secret {
  let value = first;
  let seen = fileStamp(path);
  let checkedAt = clock();
  return new Secret(() => {
    const now = clock();
    if (now - checkedAt < RECHECK_MS) return value;
    checkedAt = now;
    const stamp = fileStamp(path);
    if (stamp === undefined || stamp === seen) return value;
    try {
      const text = readFileSync(path, 'utf8').trim();
      if (text !== '') {
        value = text;
        seen = stamp;
      }
    } catch {
      // keep the last good value
    }
    return value;
  });
}

function fileStamp(path: string): string | undefined {
  try {
    const stat = statSync(path);
    // ctime too: a rewrite in place that keeps the length and restores the mtime (cp -p) still changes it.
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch {
    return undefined;
  }
}
