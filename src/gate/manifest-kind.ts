import { LRUCache } from 'lru-cache';
import { isTrustgateError } from '../errors/errors.ts';
import { isIndex } from '../oci/media-types.ts';
import { isReferrersListing, isSignatureConfig, signatureCandidate } from '../oci/signature-artifact.ts';
import { RequestBudget } from '../upstream/budget.ts';
import type { DiscoveryLimits } from '../discovery/discover.ts';
import { fetchSmallBlob } from '../upstream/fetch-blob.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { PullContext } from './types.ts';

/**
 * What a served manifest is, by its own content (docs/integrity.md "Signature artifacts"):
 * - `unsupported`: a format no signature covers (denied);
 * - `listing`: an index asked for by the referrers fallback tag (served, allows nothing);
 * - `signature-artifact`: an image manifest of signature layers whose config, read here, runs
 *   nothing (served; only its own blobs, each checked again when served);
 * - otherwise an `index` or an `image`, which policy judges.
 */
export type ManifestKind = 'unsupported' | 'listing' | 'signature-artifact' | 'index' | 'image';

export interface ManifestKindDeps {
  readonly clientFor: (upstream: string) => UpstreamClient;
  readonly limits: DiscoveryLimits;
}

export function createManifestClassifier(deps: ManifestKindDeps): (context: PullContext) => Promise<ManifestKind> {
  // By manifest digest: the manifest names its config by digest, so the answer never changes.
  const known = new LRUCache<string, boolean>({ max: 10_000 });

  async function isSignatureArtifact(context: PullContext): Promise<boolean> {
    const candidate = signatureCandidate(context.manifest.parsed);
    if (candidate === undefined) return false;
    if (candidate.configKnown) return true;
    const remembered = known.get(context.manifest.digest);
    if (remembered !== undefined) return remembered;
    const client = deps.clientFor(context.upstream.name);
    let config: Buffer;
    try {
      config = await fetchSmallBlob(
        client,
        context.repository,
        candidate.config.digest,
        candidate.config.size,
        deps.limits.maxBlobBytes,
        new RequestBudget(2),
      );
    } catch (error) {
      // A config that cannot be read whole (missing, over the cap, wrong digest) proves nothing: judged as an image.
      if (isTrustgateError(error) && error.code === 'UPSTREAM_BAD_RESPONSE') return false;
      throw error;
    }
    const verdict = isSignatureConfig(config, candidate);
    known.set(context.manifest.digest, verdict);
    return verdict;
  }

  return async (context) => {
    const { manifest } = context;
    if (manifest.unsupported !== undefined) return 'unsupported';
    if (isReferrersListing(context.requested, manifest.parsed)) return 'listing';
    if (isIndex(manifest.mediaType)) return 'index';
    return (await isSignatureArtifact(context)) ? 'signature-artifact' : 'image';
  };
}
