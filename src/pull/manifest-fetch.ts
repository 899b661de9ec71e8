import { TrustgateError } from '../errors/errors.ts';
import { algorithmOf, digestOf } from '../oci/digest.ts';
import { parseManifest, type ParsedManifest } from '../oci/manifest.ts';
import { bareMediaType, upstreamAccept } from '../oci/media-types.ts';
import { isDigest, referenceString, type Digest, type Reference } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { ManifestCache, VerifiedManifest } from './manifest-cache.ts';
import type { Source } from '../upstream/source.ts';
import { upstreamFailure } from '../upstream/upstream-answer.ts';

export interface ManifestFetchOptions {
  readonly client: UpstreamClient;
  readonly cache: ManifestCache;
  readonly maxBytes: number;
}

/**
 * Gets the manifest a reference names, as bytes trustgate hashed itself (docs/wire-formats.md "Digests": verify the
 * digest of the bytes returned, never the one expected). By digest: from the cache, else upstream.
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
        cache.put(source.canonicalName, hinted, reference.tag); // the tag resolved again just now
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
      const manifest = await getManifest(source, reference, accept, options);
      if (manifest.unsupported === undefined) cache.put(source.canonicalName, manifest, undefined);
      return manifest;
    });
  }
  const manifest = await getManifest(source, reference, accept, options);
  if (manifest.unsupported === undefined) cache.put(source.canonicalName, manifest, reference.tag);
  return manifest;
}

async function headDigest(source: Source, tag: string, accept: string, options: ManifestFetchOptions): Promise<Digest | undefined> {
  const response = await options.client.request({
    method: 'HEAD',
    path: manifestPath(source, tag),
    headers: { accept },
    scope: pullScope(source),
    maxBytes: 0,
  });
  if (response.status !== 200) return undefined;
  const digest = response.headers['docker-content-digest'];
  return digest !== undefined && isDigest(digest) ? digest : undefined;
}

async function getManifest(source: Source, reference: Reference, accept: string, options: ManifestFetchOptions): Promise<VerifiedManifest> {
  const upstream = source.upstream.name;
  const response = await options.client.request({
    method: 'GET',
    path: manifestPath(source, referenceString(reference)),
    headers: { accept },
    scope: pullScope(source),
    maxBytes: options.maxBytes,
  });
  if (response.status !== 200) throw upstreamFailure(upstream, response.status, response.body, 'MANIFEST_UNKNOWN', response.headers);
  const bytes = response.body;
  const parsed = parseManifest(bytes, response.headers['content-type']);
  const algorithm = reference.kind === 'digest' ? algorithmOf(reference.digest) : 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (!parsed.ok) {
    // It exists and is refused: a decision (denied, unsupported_manifest) like any other, never served.
    if (parsed.kind === 'schema1' || parsed.kind === 'unsupported')
      return { bytes, digest, parsed: unparsed(response.headers['content-type']), unsupported: parsed.problem };
    throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${upstream}" sent an invalid manifest: ${parsed.problem}`);
  }
  if (reference.kind === 'digest' && digest !== reference.digest) {
    throw mismatch(upstream, `the manifest bytes hash to ${digest}, not the requested ${reference.digest}`);
  }
  const claimed = response.headers['docker-content-digest'];
  if (claimed !== undefined && claimed !== '' && (!isDigest(claimed) || (algorithmOf(claimed) === algorithm && claimed !== digest))) {
    throw mismatch(upstream, `the manifest bytes hash to ${digest}, but Docker-Content-Digest says ${claimed.slice(0, 80)}`);
  }
  return { bytes, digest, parsed: parsed.manifest };
}

/** What stands for the parse of a manifest whose format is refused: nothing in it is read. */
function unparsed(contentType: string | undefined): ParsedManifest {
  return {
    mediaType: bareMediaType(contentType),
    children: [],
    blobs: [],
    subject: undefined,
    artifactType: undefined,
    configMediaType: undefined,
    layerMediaTypes: [],
    childArtifactTypes: [],
    config: undefined,
    layers: [],
  };
}

function mismatch(upstream: string, what: string): TrustgateError {
  return new TrustgateError('UPSTREAM_DIGEST_MISMATCH', `upstream "${upstream}" sent a manifest that fails its digest check: ${what}`);
}

export function manifestPath(source: Source, reference: string): string {
  return `/v2/${source.repository}/manifests/${reference}`;
}

export function pullScope(source: Source): string {
  return `repository:${source.repository}:pull`;
}
