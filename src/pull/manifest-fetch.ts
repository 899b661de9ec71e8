import { isTrustgateError } from '../errors/errors.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import { upstreamAccept } from '../oci/media-types.ts';
import type { Digest, Reference } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { ManifestCache, VerifiedManifest } from './manifest-cache.ts';
import type { Source } from '../upstream/source.ts';
import { headManifest, readManifest, repositoryPath, repositoryScope } from '../upstream/reader.ts';

export interface ManifestFetchOptions {
  readonly client: UpstreamClient;
  readonly cache: ManifestCache;
  readonly maxBytes: number;
  /** Fail static (pull/fail-static.ts): answers by digest from the kept copies while the upstream is unreachable. */
  readonly staticCopy?: StaticManifests | undefined;
}

/**
 * Manifests kept on disk for fail static: `keep` is called once a manifest is served under a verdict
 * (pull/manifests.ts), `recall` only when the upstream is unreachable (the caller checked).
 */
export interface StaticManifests {
  keep(source: Source, manifest: VerifiedManifest): void;
  /** Throws the upstream's failure unless it answers for this manifest now (break glass needs the upstream: docs/blob-cache.md). */
  confirm(source: Source, digest: Digest): Promise<void>;
  /** The kept manifest, re-hashed, marked `static`; undefined when none is kept for this repository. */
  recall(source: Source, digest: Digest): Promise<VerifiedManifest | undefined>;
}

/**
 * Gets the manifest a reference names, as bytes trustgate hashed itself (docs/wire-formats.md "Digests": verify the
 * digest of the bytes returned, never the one expected; the upstream reader hashes and checks them). By digest: from the cache, else upstream.
 * By tag: asked upstream (a HEAD is enough when it names a digest already cached), unless
 * `manifests.tagTtlMs` is on and the tag resolved within it.
 */
export async function fetchManifest(
  source: Source,
  reference: Reference,
  clientAccept: string | undefined,
  options: ManifestFetchOptions,
): Promise<VerifiedManifest> {
  const { cache } = options;
  const accept = upstreamAccept(clientAccept);
  if (reference.kind === 'digest') {
    const cached = cache.get(source.canonicalName, reference.digest);
    if (cached !== undefined) return cached;
  } else {
    const hint = cache.tagHint(source.canonicalName, reference.tag);
    const hinted = hint === undefined ? undefined : cache.get(source.canonicalName, hint.digest);
    if (hinted !== undefined && hint?.fresh === true) return hinted;
    if (hinted !== undefined) {
      const current = await headDigest(source, reference.tag, accept, options);
      if (current === hinted.digest) {
        cache.retag(source.canonicalName, reference.tag, hinted.digest); // the tag resolved again just now
        return hinted;
      }
      const known = current === undefined ? undefined : cache.get(source.canonicalName, current);
      if (known !== undefined) {
        cache.put(source.canonicalName, known, reference.tag);
        return known;
      }
    }
  }
  if (reference.kind === 'digest') {
    // Content addressed: concurrent pulls of one digest (with one Accept) can share one upstream GET.
    return cache.fetches.run(`${source.upstream.name} ${source.canonicalName}@${reference.digest} ${accept}`, async () => {
      const manifest = await getManifest(source, reference, accept, options).catch(async (error: unknown) => {
        const recalled = isUnreachable(error) ? await options.staticCopy?.recall(source, reference.digest) : undefined;
        if (recalled === undefined) throw error;
        return recalled;
      });
      if (manifest.unsupported === undefined && manifest.static !== true) cache.put(source.canonicalName, manifest, undefined);
      return manifest;
    });
  }
  // By tag while the upstream is unreachable: refused (the error passes on), unless `tagTtlMs` answered above.
  const manifest = await getManifest(source, reference, accept, options);
  if (manifest.unsupported === undefined) cache.put(source.canonicalName, manifest, reference.tag);
  return manifest;
}

/** What fail static answers for: no connection, a timeout or a 5xx; never a 401, 403 or 404 (docs/blob-cache.md "Fail static"). */
export function isUnreachable(error: unknown): boolean {
  return isTrustgateError(error) && (error.code === 'UPSTREAM_UNREACHABLE' || error.code === 'UPSTREAM_TIMEOUT');
}

function headDigest(source: Source, tag: string, accept: string, options: ManifestFetchOptions): Promise<Digest | undefined> {
  return headManifest(options.client, { repository: source.repository, tag, accept });
}

async function getManifest(source: Source, reference: Reference, accept: string, options: ManifestFetchOptions): Promise<VerifiedManifest> {
  const read = await readManifest(options.client, { repository: source.repository, reference, accept, maxBytes: options.maxBytes });
  if (read.unsupported === undefined) return { bytes: read.bytes, digest: read.digest, parsed: read.manifest };
  // It exists and is refused: a decision (denied, unsupported_manifest) like any other, never served.
  return { bytes: read.bytes, digest: read.digest, parsed: unparsed(read.contentType), unsupported: read.unsupported };
}

/** What stands for the parse of a manifest whose format is refused: nothing in it is read. */
function unparsed(mediaType: string): ParsedManifest {
  return {
    mediaType,
    children: [],
    blobs: [],
    subject: undefined,
    artifactType: undefined,
    configMediaType: undefined,
    layerMediaTypes: [],
    childArtifactTypes: [],
    config: undefined,
    layers: [],
    manifests: [],
  };
}

export function manifestPath(source: Source, reference: string): string {
  return repositoryPath(source.repository, `manifests/${reference}`);
}

export function pullScope(source: Source): string {
  return repositoryScope(source.repository);
}
