import type { Digest } from '../oci/reference.ts';
import type { Links } from './links.ts';

/** One committed entry as this process knows it. A new commit of the same digest makes a new object. */
export interface IndexEntry {
  readonly digest: Digest;
  readonly size: number;
  links: Links;
  /** Hashed in this process (filled here, or read once): served without hashing again. */
  verified: boolean;
  /** The one in-flight first-read hash, shared by concurrent readers. */
  verifying?: Promise<boolean> | undefined;
  /** When the file's mtime was last set (the store's clock), to throttle touching it. */
  touchedAt: number;
}

/**
 * Committed entries in least-recently-used order (a Map keeps insertion order: oldest first), and
 * the bytes they hold. Memory only; the disk order is approximated by mtime (store.ts).
 */
export class LruIndex {
  private readonly entries = new Map<Digest, IndexEntry>();
  private bytes = 0;

  get(digest: Digest): IndexEntry | undefined {
    return this.entries.get(digest);
  }

  get total(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Adds or replaces the entry for its digest as the most recently used; the total counts each digest once. */
  put(entry: IndexEntry): void {
    const old = this.entries.get(entry.digest);
    if (old !== undefined) {
      this.entries.delete(entry.digest);
      this.bytes -= old.size;
    }
    this.entries.set(entry.digest, entry);
    this.bytes += entry.size;
  }

  /** Marks an entry most recently used. */
  touch(entry: IndexEntry): void {
    if (this.entries.get(entry.digest) !== entry) return;
    this.entries.delete(entry.digest);
    this.entries.set(entry.digest, entry);
  }

  /** Removes this exact entry (not a newer commit of the same digest); whether it was there. */
  remove(entry: IndexEntry): boolean {
    if (this.entries.get(entry.digest) !== entry) return false;
    this.entries.delete(entry.digest);
    this.bytes -= entry.size;
    return true;
  }

  /**
   * Takes least recently used entries out until the total is at most `maxBytes`, never `keep`;
   * returns them for the caller to unlink.
   */
  evictPast(maxBytes: number, keep?: IndexEntry): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const entry of this.entries.values()) {
      if (this.bytes <= maxBytes) break;
      if (entry === keep) continue;
      this.entries.delete(entry.digest);
      this.bytes -= entry.size;
      out.push(entry);
    }
    return out;
  }
}
