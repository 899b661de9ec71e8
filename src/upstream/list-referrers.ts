// distribution-spec "Listing Referrers" and its "Referrers Tag Schema" fallback (docs/wire-formats.md "Referrers").
import { TrustgateError } from '../errors/errors.ts';
import { referrersTag } from '../oci/digest.ts';
import { parseManifest, type BlobDescriptor } from '../oci/manifest.ts';
import { bareMediaType, isIndex, MediaType } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import type { RequestBudget } from './budget.ts';
import { MAX_MANIFEST_BYTES, repositoryPath, repositoryScope } from './registry-paths.ts';
import type { UpstreamClient, UpstreamResponse } from './types.ts';
import { upstreamError } from './upstream-answer.ts';

export interface ReferrersListing {
  /** The referrer descriptors as oci/manifest.ts read them: mediaType, digest, size, artifactType, annotations. */
  readonly manifests: readonly BlobDescriptor[];
  /** `api`: the referrers API answered; `tag`: the fallback tag held an index; `none`: neither, so no referrers. */
  readonly from: 'api' | 'tag' | 'none';
  /** The upstream applied the `artifactType` filter itself (its `OCI-Filters-Applied` lists it). */
  readonly filtered: boolean;
  /** The API answer's `Link` header (pagination), untouched: the caller rewrites it. */
  readonly link: string | undefined;
}

export interface ReferrersOptions {
  /** Passed to the API as `?artifactType=` (URL-encoded); the caller checked it looks like a media type. */
  readonly artifactType?: string | undefined;
  /** Spent once per upstream request (discovery's per-image cap). */
  readonly budget?: RequestBudget | undefined;
}

const NONE: ReferrersListing = { manifests: [], from: 'none', filtered: false, link: undefined };

/**
 * The referrers of `digest`: from the API; when it answers 404 (no API), from the fallback tag
 * `<alg>-<hex>`, where a non-index or a 404 means no referrers. No referrers is an empty list.
 */
export async function listReferrers(
  client: UpstreamClient,
  repository: string,
  digest: Digest,
  options: ReferrersOptions = {},
): Promise<ReferrersListing> {
  const upstream = client.config.name;
  const query = options.artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(options.artifactType)}`;
  const api = await get(client, repository, `referrers/${digest}${query}`, MediaType.ociIndex, options.budget);
  if (api.status === 200) {
    return {
      manifests: descriptorsOf(upstream, api),
      from: 'api',
      filtered: /(^|,)\s*artifactType\s*(,|$)/i.test(api.headers['oci-filters-applied'] ?? ''),
      link: api.headers['link'],
    };
  }
  if (api.status !== 404) throw failure(upstream, api);
  const tag = await get(
    client,
    repository,
    `manifests/${referrersTag(digest)}`,
    `${MediaType.ociIndex}, ${MediaType.dockerManifestList}`,
    options.budget,
  );
  if (tag.status === 404) return NONE;
  if (tag.status !== 200) throw failure(upstream, tag);
  // The tag is an ordinary tag: what it names is a listing only when the upstream serves it as an index.
  if (!isIndex(bareMediaType(tag.headers['content-type']))) return NONE;
  return { manifests: descriptorsOf(upstream, tag), from: 'tag', filtered: false, link: undefined };
}

async function get(
  client: UpstreamClient,
  repository: string,
  endpoint: string,
  accept: string,
  budget: RequestBudget | undefined,
): Promise<UpstreamResponse> {
  budget?.spend();
  return client.request({
    method: 'GET',
    path: repositoryPath(repository, endpoint),
    headers: { accept },
    scope: repositoryScope(repository),
    maxBytes: MAX_MANIFEST_BYTES,
  });
}

/** image-spec image-index.md via the one manifest parser: an index whose every descriptor is well formed. */
function descriptorsOf(upstream: string, response: UpstreamResponse): readonly BlobDescriptor[] {
  const parsed = parseManifest(response.body, response.headers['content-type']);
  if (parsed.ok && isIndex(parsed.manifest.mediaType) && parsed.manifest.manifests !== undefined) return parsed.manifest.manifests;
  // Fixed text only: the parser's problem can quote the body's mediaType, which is the upstream's to choose.
  throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream ${JSON.stringify(upstream)} sent an invalid referrers index`);
}

function failure(upstream: string, response: UpstreamResponse): TrustgateError {
  return upstreamError(upstream, { status: response.status, body: response.body, headers: response.headers, missing: 'NAME_UNKNOWN' });
}
