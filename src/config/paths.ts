import { isAbsolute, relative, sep } from 'node:path';

/**
 * Whether `path` is `dir` or inside it (both absolute). The one check that keeps the bootstrap
 * admin key out of the trust store's keys.dir: the config (admin.bootstrap.dataDir) and
 * `trustgate token mint --data-dir` both ask it.
 */
export function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  // `..foo` is a child named "..foo", not a way out; another drive (Windows) gives an absolute path.
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}
