import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isDigest, type Digest } from '../oci/reference.ts';

export type Algorithm = 'sha256' | 'sha512';
export const ALGORITHMS: readonly Algorithm[] = ['sha256', 'sha512'];

const HEX_LENGTH: Readonly<Record<Algorithm, number>> = { sha256: 64, sha512: 128 };
const LINKS_SUFFIX = '.links';

/**
 * Where things live under the cache directory: `<dir>/<alg>/<hex>` holds the content of one digest,
 * `<dir>/<alg>/<hex>.links` its links (JSON), `<dir>/tmp/` fills and sidecar rewrites in progress.
 * Paths are built only from a digest checked against the strict grammar, never from an upstream or
 * repository name.
 */
export class Layout {
  readonly tmp: string;

  constructor(readonly directory: string) {
    this.tmp = join(directory, 'tmp');
  }

  algorithmDirectory(algorithm: Algorithm): string {
    return join(this.directory, algorithm);
  }

  /** The content file of a digest; undefined for anything but `sha256:[a-f0-9]{64}` / `sha512:[a-f0-9]{128}`. */
  contentPath(digest: string): string | undefined {
    if (!isDigest(digest)) return undefined;
    const [algorithm, hex] = digest.split(':') as [Algorithm, string];
    return join(this.directory, algorithm, hex);
  }

  linksPath(digest: Digest): string | undefined {
    const content = this.contentPath(digest);
    return content === undefined ? undefined : content + LINKS_SUFFIX;
  }

  /** A fresh temporary file name: unique across processes sharing the directory (pid) and within one (random). */
  tempPath(): string {
    return join(this.tmp, `${process.pid}-${randomBytes(12).toString('hex')}`);
  }
}

/** What a file name in `<dir>/<alg>/` is: an entry, an entry's links, or something to drop. */
export function classifyName(algorithm: Algorithm, name: string): { kind: 'content' | 'links'; digest: Digest } | { kind: 'other' } {
  const isLinks = name.endsWith(LINKS_SUFFIX);
  const hex = isLinks ? name.slice(0, -LINKS_SUFFIX.length) : name;
  const digest = `${algorithm}:${hex}`;
  if (hex.length !== HEX_LENGTH[algorithm] || !isDigest(digest)) return { kind: 'other' };
  return { kind: isLinks ? 'links' : 'content', digest };
}
