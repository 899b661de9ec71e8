import { isTrustgateError } from '../errors/errors.ts';
import { referrersTag } from '../oci/digest.ts';
import { isIndex, MediaType } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { SignedArtifact, SignatureFinding } from '../verify/types.ts';
import { RequestBudget } from '../upstream/budget.ts';
import { fetchSmallBlob } from '../upstream/fetch-blob.ts';
import { fetchJson, type Descriptor } from '../upstream/fetch-json.ts';

export const COSIGN_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const NOTATION_ARTIFACT = 'application/vnd.cncf.notary.signature';
export const BUNDLE_ARTIFACT = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface DiscoveryLimits {
  /** Signatures (layers or referrers) looked at per image; notation-go's examples use 50. */
  readonly maxSignatures: number;
  readonly maxBlobBytes: number;
  readonly maxRequests: number;
}

export interface Discovered {
  readonly artifacts: readonly SignedArtifact[];
  /** Signatures that could not even be read (bad blob, wrong subject…): they count as checked and failed. */
  readonly unreadable: readonly SignatureFinding[];
}

/**
 * Fetches every signature of one manifest from its upstream: the cosign `.sig` tag (in the image's
 * repository or the rule's signature repository) and the referrers (API, else the fallback tag)
 * for notation signatures and sigstore bundles. Unreachable upstreams throw; bad artifacts become
 * findings.
 */
export async function discoverSignatures(
  client: UpstreamClient,
  repository: string,
  signatureRepository: string,
  digest: Digest,
  limits: DiscoveryLimits,
): Promise<Discovered> {
  const budget = new RequestBudget(limits.maxRequests);
  const artifacts: SignedArtifact[] = [];
  const unreadable: SignatureFinding[] = [];
  const guard = async (scheme: SignedArtifact['scheme'], source: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      if (!isTrustgateError(error) || error.code !== 'UPSTREAM_BAD_RESPONSE') throw error;
      unreadable.push({ scheme, source, verifiedBy: [], failure: { kind: 'format', message: error.message } });
    }
  };
  const sigTag = `${referrersTag(digest)}.sig`;
  // The two lookups are independent: run them side by side, then list cosign's signatures first.
  const cosign: SignedArtifact[] = [];
  const referred: SignedArtifact[] = [];
  const cosignLookup = guard('cosign', sigTag, async () => {
    const sig = await fetchJson(
      client,
      signatureRepository,
      `manifests/${sigTag}`,
      `${MediaType.ociManifest}, ${MediaType.dockerManifest}`,
      budget,
    );
    if (sig === undefined) return;
    const layers = (sig.json['layers'] as Descriptor[] | undefined) ?? [];
    for (const [i, layer] of layers.slice(0, limits.maxSignatures).entries()) {
      const source = `cosign signature ${i + 1}`;
      await guard('cosign', source, async () => {
        const payload = await fetchSmallBlob(client, signatureRepository, layer.digest, layer.size, limits.maxBlobBytes, budget);
        cosign.push({ scheme: 'cosign', source, mediaType: layer.mediaType, payload, annotations: layer.annotations ?? {} });
      });
    }
  });
  const referrersLookup = (async () => {
    for (const descriptor of (await referrers(client, repository, digest, budget)).slice(0, limits.maxSignatures)) {
      const scheme = descriptor.artifactType === NOTATION_ARTIFACT ? 'notation' : 'sigstore-bundle';
      const source = `${scheme === 'notation' ? 'notation signature' : 'sigstore bundle'} ${descriptor.digest.slice(7, 19)}`;
      await guard(scheme, source, async () => {
        const manifest = await fetchJson(
          client,
          repository,
          `manifests/${descriptor.digest}`,
          MediaType.ociManifest,
          budget,
          descriptor.digest,
        );
        const subject = (manifest?.json['subject'] as Descriptor | undefined)?.digest;
        const layer = (manifest?.json['layers'] as Descriptor[] | undefined)?.[0];
        if (manifest === undefined || subject !== digest || layer === undefined) {
          unreadable.push({
            scheme,
            source,
            verifiedBy: [],
            failure: { kind: 'format', message: 'referrer is missing, has no layer, or names another subject' },
          });
          return;
        }
        const bytes = await fetchSmallBlob(client, repository, layer.digest, layer.size, limits.maxBlobBytes, budget);
        referred.push(
          scheme === 'notation' ? { scheme, source, mediaType: layer.mediaType, envelope: bytes } : { scheme, source, bundle: bytes },
        );
      });
    }
  })();
  const settled = await Promise.allSettled([cosignLookup, referrersLookup]);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  artifacts.push(...cosign, ...referred);
  return { artifacts, unreadable };
}

/** Referrers that are signatures: from the API, or from the fallback tag when the upstream has none (spec "Listing Referrers"). */
async function referrers(client: UpstreamClient, repository: string, digest: Digest, budget: RequestBudget): Promise<Descriptor[]> {
  let index = await fetchJson(client, repository, `referrers/${digest}`, MediaType.ociIndex, budget);
  if (index === undefined) index = await fetchJson(client, repository, `manifests/${referrersTag(digest)}`, MediaType.ociIndex, budget);
  if (index === undefined || !isIndex(index.mediaType)) return [];
  const manifests = (index.json['manifests'] as Descriptor[] | undefined) ?? [];
  return manifests.filter(
    (d) =>
      d.artifactType === NOTATION_ARTIFACT ||
      (d.artifactType === BUNDLE_ARTIFACT &&
        (d.annotations?.['dev.sigstore.bundle.predicateType'] ?? BUNDLE_SIGN_PREDICATE) === BUNDLE_SIGN_PREDICATE),
  );
}
