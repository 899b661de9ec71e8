import { LRUCache } from 'lru-cache';
import type { ParsedManifest } from '../oci/manifest.ts';
import type { Digest } from '../oci/reference.ts';

/** Manifest bytes whose sha256 trustgate computed itself. */
export interface VerifiedManifest {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly parsed: ParsedManifest;
}

/**
 * Manifests by (canonical name, digest). Content addressed by digest never changes, so these may be
 * served again; keying by name too means a digest is never served from a repository that lacks it.
 * Bounded by total bytes. Also remembers the last digest each tag resolved to, as a hint only: tags
 * are always resolved afresh upstream.
 */
export class ManifestCache {
  readonly #byDigest: LRUCache<string, VerifiedManifest> | undefined;
  readonly #tagHints = new LRUCache<string, Digest>({ max: 10_000 });

  constructor(maxBytes: number) {
    this.#byDigest =
      maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (m) => Math.max(1, m.bytes.length) }) : undefined;
  }

  get(canonicalName: string, digest: Digest): VerifiedManifest | undefined {
    return this.#byDigest?.get(`${canonicalName}@${digest}`);
  }

  put(canonicalName: string, manifest: VerifiedManifest, tag: string | undefined): void {
    this.#byDigest?.set(`${canonicalName}@${manifest.digest}`, manifest);
    if (tag !== undefined) this.#tagHints.set(`${canonicalName}:${tag}`, manifest.digest);
  }

  tagHint(canonicalName: string, tag: string): Digest | undefined {
    return this.#tagHints.get(`${canonicalName}:${tag}`);
  }
}
