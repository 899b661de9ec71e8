import { LRUCache } from 'lru-cache';
import { SingleFlight } from '../gate/single-flight.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import type { Digest } from '../oci/reference.ts';

/** Manifest bytes whose sha256 trustgate computed itself. */
export interface VerifiedManifest {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly parsed: ParsedManifest;
  /** Why this manifest's format is refused (schema 1, an unknown type): the gate denies it. Never cached. */
  readonly unsupported?: string;
  /** Recalled from the fail-static copy while the upstream is unreachable: served only under a cached verdict, never by break glass. */
  readonly static?: true;
}

/**
 * Manifests by (canonical name, digest). Content addressed by digest never changes, so these may be
 * served again; keying by name too means a digest is never served from a repository that lacks it.
 * Bounded by total bytes. Also remembers the last digest each tag resolved to, as a hint: tags are
 * resolved afresh upstream, unless `tagTtlMs` lets a resolution younger than that stand.
 */
interface TagHint {
  readonly digest: Digest;
  /** When the upstream last said the tag names this digest (epoch ms). */
  readonly at: number;
}

export class ManifestCache {
  readonly #byDigest: LRUCache<string, VerifiedManifest> | undefined;
  readonly #tagHints = new LRUCache<string, TagHint>({ max: 10_000 });
  readonly #tagTtlMs: number;
  /** Upstream fetches by digest in flight: a herd of pulls of one new digest shares one fetch. */
  readonly fetches = new SingleFlight<VerifiedManifest>();
  readonly #now: () => number;

  constructor(maxBytes: number, options: { tagTtlMs?: number; now?: () => number } = {}) {
    this.#tagTtlMs = options.tagTtlMs ?? 0;
    this.#now = options.now ?? Date.now;
    this.#byDigest = maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (m) => Math.max(1, m.bytes.length) }) : undefined;
  }

  get(canonicalName: string, digest: Digest): VerifiedManifest | undefined {
    return this.#byDigest?.get(`${canonicalName}@${digest}`);
  }

  put(canonicalName: string, manifest: VerifiedManifest, tag: string | undefined): void {
    this.#byDigest?.set(`${canonicalName}@${manifest.digest}`, manifest);
    if (tag !== undefined) this.#tagHints.set(`${canonicalName}:${tag}`, { digest: manifest.digest, at: this.#now() });
  }

  /**
   * The tag resolved again just now to `digest`, a manifest this cache holds (`get` found it, and
   * so also made it the most recently used): only the hint is renewed. `put` would set the manifest
   * again as well, an LRU write on every pull by tag (bench profile of #15).
   */
  retag(canonicalName: string, tag: string, digest: Digest): void {
    this.#tagHints.set(`${canonicalName}:${tag}`, { digest, at: this.#now() });
  }

  /** The digest this tag last resolved to, and whether that resolution is still fresh enough to trust. */
  tagHint(canonicalName: string, tag: string): { digest: Digest; fresh: boolean } | undefined {
    const hint = this.#tagHints.get(`${canonicalName}:${tag}`);
    if (hint === undefined) return undefined;
    return { digest: hint.digest, fresh: this.#tagTtlMs > 0 && this.#now() - hint.at < this.#tagTtlMs };
  }
}
