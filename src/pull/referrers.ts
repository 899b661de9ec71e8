// distribution-spec "Listing Referrers" and its "Referrers Tag Schema" fallback.
import { TrustgateError } from '../errors/errors.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { answer, singleQuery, type Exchange } from '../server/exchange.ts';
import { rewriteNextLink } from './link.ts';
import type { Source } from '../upstream/source.ts';
import { listReferrers } from '../upstream/reader.ts';

const ARTIFACT_TYPE = /^[a-zA-Z0-9!#$&^_.+-]{1,127}\/[a-zA-Z0-9!#$&^_.+-]{1,127}$/;

/**
 * Answers from the upstream's referrers API, or, when the upstream has none (404), from the
 * fallback tag `<alg>-<hex>` that clients maintain on such registries (the upstream reader reads
 * both). The descriptors served are the ones trustgate parsed (docs/wire-formats.md "Referrers").
 * With `artifactType`, filters itself whenever the upstream did not, and says so with `OCI-Filters-Applied`.
 */
export async function serveReferrers(exchange: Exchange, source: Source, digest: Digest, client: UpstreamClient): Promise<void> {
  const { res } = exchange;
  const artifactType = singleQuery(exchange, 'artifactType');
  if (artifactType !== undefined && !ARTIFACT_TYPE.test(artifactType)) {
    throw new TrustgateError('QUERY_INVALID', 'query parameter "artifactType" must be a media type');
  }
  const listing = await listReferrers(client, source.repository, digest, { artifactType });
  const link = listing.from === 'api' ? rewriteNextLink(listing.link, source, `referrers/${digest}`) : undefined;
  if (link !== undefined) res.setHeader('link', link);
  const manifests = listing.manifests.filter((d) => artifactType === undefined || listing.filtered || d.artifactType === artifactType);
  if (artifactType !== undefined) res.setHeader('oci-filters-applied', 'artifactType');
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
  res.setHeader('content-type', MediaType.ociIndex);
  res.setHeader('content-length', Buffer.byteLength(body));
  answer(exchange, 200, body);
}
