import type { Digest } from '../oci/reference.ts';
import type { LogThrottle } from './disk-faults.ts';
import { writeFileAtomic } from './files.ts';
import type { Layout } from './layout.ts';
import { serializeLinks, type Links } from './links.ts';

/**
 * Rewrites entries' link sidecars (write-temp + rename: a reader sees the old file or the new one),
 * one write per digest at a time so the last file written holds the newest links. Best effort: on a
 * disk error the links in memory stand, and after a restart the upstream is asked again.
 */
export class LinksFile {
  private readonly pending = new Map<Digest, Promise<void>>();

  constructor(
    private readonly layout: Layout,
    private readonly warnings: LogThrottle,
  ) {}

  /** Saves `links` once the writes before it are done, unless `current()` says the entry is gone by then. Never rejects. */
  save(digest: Digest, links: Links, current: () => boolean): Promise<void> {
    const previous = this.pending.get(digest) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (current()) {
        try {
          await writeFileAtomic(this.layout.tempPath(), this.layout.linksPath(digest)!, serializeLinks(links));
        } catch (error) {
          const code = (error as { code?: unknown } | null)?.code;
          this.warnings.warn('links', { digest, code: typeof code === 'string' ? code : undefined }, 'blob cache links not saved');
        }
      }
      if (this.pending.get(digest) === next) this.pending.delete(digest);
    });
    this.pending.set(digest, next);
    return next;
  }

  /** Waits for every write in flight. */
  async drain(): Promise<void> {
    await Promise.all(this.pending.values());
  }
}
