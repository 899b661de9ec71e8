// distribution-spec "Listing Referrers" and its "Referrers Tag Schema" fallback.
import { TrustgateError } from '../errors/errors.ts';
import { referrersTag } from '../oci/digest.ts';
import { bareMediaType, isIndex, MediaType } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { answer, singleQuery, type Exchange } from '../server/exchange.ts';
import { rewriteNextLink } from './link.ts';
import { manifestPath, pullScope } from './manifest-fetch.ts';
import type { Source } from '../upstream/source.ts';
import { upstreamFailure } from '../upstream/upstream-answer.ts';

const MAX_REFERRERS_BYTES = 4 * 1_048_576;
const ARTIFACT_TYPE = /^[a-zA-Z0-9!#$&^_.+-]{1,127}\/[a-zA-Z0-9!#$&^_.+-]{1,127}$/;

interface Descriptor {
  readonly artifactType?: unknown;
}

/**
 * Answers from the upstream's referrers API, or, when the upstream has none (404), from the
 * fallback tag `<alg>-<hex>` that clients maintain on such registries. With `artifactType`, filters
 * itself whenever the upstream did not, and says so with `OCI-Filters-Applied`.
 */
export async function serveReferrers(exchange: Exchange, source: Source, digest: Digest, client: UpstreamClient): Promise<void> {
  const { res } = exchange;
  const artifactType = singleQuery(exchange, 'artifactType');
  if (artifactType !== undefined && !ARTIFACT_TYPE.test(artifactType)) {
    throw new TrustgateError('QUERY_INVALID', 'query parameter "artifactType" must be a media type');
  }
  const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  const common = { method: 'GET' as const, scope: pullScope(source), maxBytes: MAX_REFERRERS_BYTES };
  const api = await client.request({
    ...common,
    path: `/v2/${source.repository}/referrers/${digest}${query}`,
    headers: { accept: MediaType.ociIndex },
  });
  let index: Record<string, unknown>;
  let filtered = false;
  if (api.status === 200) {
    index = parseIndex(api.body, source);
    filtered = /(^|,)\s*artifactType\s*(,|$)/i.test(api.headers['oci-filters-applied'] ?? '');
    const link = rewriteNextLink(api.headers['link'], source, `referrers/${digest}`);
    if (link !== undefined) res.setHeader('link', link);
  } else if (api.status === 404) {
    const fallback = await client.request({
      ...common,
      path: manifestPath(source, referrersTag(digest)),
      headers: { accept: `${MediaType.ociIndex}, ${MediaType.dockerManifestList}` },
    });
    if (fallback.status === 200 && isIndex(bareMediaType(fallback.headers['content-type']))) {
      index = parseIndex(fallback.body, source);
    } else if (fallback.status === 200 || fallback.status === 404) {
      index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    } else {
      throw upstreamFailure(source.upstream.name, fallback.status, fallback.body, 'NAME_UNKNOWN', fallback.headers);
    }
  } else {
    throw upstreamFailure(source.upstream.name, api.status, api.body, 'NAME_UNKNOWN', api.headers);
  }
  const manifests = (index['manifests'] as Descriptor[]).filter(
    (d) => artifactType === undefined || filtered || d.artifactType === artifactType,
  );
  if (artifactType !== undefined) res.setHeader('oci-filters-applied', 'artifactType');
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
  res.setHeader('content-type', MediaType.ociIndex);
  res.setHeader('content-length', Buffer.byteLength(body));
  answer(exchange, 200, body);
}

function parseIndex(body: Buffer, source: Source): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (typeof parsed === 'object' && parsed !== null && Array.isArray(parsed['manifests'])) return parsed;
  } catch {
    // fall through
  }
  throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${source.upstream.name}" sent an invalid referrers index`);
}
