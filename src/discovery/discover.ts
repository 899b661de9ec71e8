import { referrersTag } from '../oci/digest.ts';
import type { BlobDescriptor } from '../oci/manifest.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import type { SignedArtifact, SignatureFinding } from '../verify/types.ts';
import { RequestBudget } from '../upstream/budget.ts';
import { describedManifest, fetchSmallBlob, findManifest, listReferrers } from '../upstream/reader.ts';
import { isUnusableAnswer } from '../upstream/upstream-answer.ts';

export const COSIGN_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const NOTATION_ARTIFACT = 'application/vnd.cncf.notary.signature';
export const BUNDLE_ARTIFACT = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
/** cosign SIGNATURE_SPEC.md: the `.sig` manifest is an OCI or a Docker v2 image manifest. */
export const SIGNATURE_MANIFEST_ACCEPT = `${MediaType.ociManifest}, ${MediaType.dockerManifest}`;

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
 * for notation signatures and sigstore bundles. Unreachable upstreams throw; bad artifacts (an
 * unusable answer: malformed, or not what its digest says) become findings.
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
      if (!isUnusableAnswer(error)) throw error;
      unreadable.push({ scheme, source, verifiedBy: [], failure: { kind: 'format', message: error.message } });
    }
  };
  const sigTag = `${referrersTag(digest)}.sig`;
  // The two lookups are independent: run them side by side, then list cosign's signatures first.
  const cosign: SignedArtifact[] = [];
  const referred: SignedArtifact[] = [];
  const cosignLookup = guard('cosign', sigTag, async () => {
    const sig = await findManifest(client, {
      repository: signatureRepository,
      reference: { kind: 'tag', tag: sigTag },
      accept: SIGNATURE_MANIFEST_ACCEPT,
      budget,
    });
    if (sig === undefined) return;
    const layers = describedManifest(client.config.name, sig).layers ?? [];
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
        // By digest: the reader hashes the bytes and refuses any that are not what the referrers listing named.
        const found = await findManifest(client, {
          repository,
          reference: { kind: 'digest', digest: descriptor.digest },
          accept: MediaType.ociManifest,
          budget,
        });
        const manifest = found === undefined ? undefined : describedManifest(client.config.name, found);
        const layer = manifest?.layers?.[0];
        if (manifest === undefined || manifest.subject !== digest || layer === undefined) {
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
async function referrers(client: UpstreamClient, repository: string, digest: Digest, budget: RequestBudget): Promise<BlobDescriptor[]> {
  const listing = await listReferrers(client, repository, digest, { budget });
  return listing.manifests.filter(
    (d) =>
      d.artifactType === NOTATION_ARTIFACT ||
      (d.artifactType === BUNDLE_ARTIFACT &&
        (d.annotations?.['dev.sigstore.bundle.predicateType'] ?? BUNDLE_SIGN_PREDICATE) === BUNDLE_SIGN_PREDICATE),
  );
}
