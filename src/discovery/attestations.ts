import { referrersTag } from '../oci/digest.ts';
import type { BlobDescriptor } from '../oci/manifest.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { RequestBudget } from '../upstream/budget.ts';
import { SIGNATURE_MANIFEST_ACCEPT, type DiscoveryLimits } from './discover.ts';
import { describedManifest, fetchSmallBlob, findManifest } from '../upstream/reader.ts';
import { isUnusableAnswer } from '../upstream/upstream-answer.ts';

const DSSE_LAYER = 'application/vnd.dsse.envelope.v1+json';
const VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';

export interface AttestationEnvelope {
  readonly source: string;
  readonly envelope: Buffer;
}

/**
 * The vulnerability attestations next to an image: the DSSE layers of cosign's `sha256-<hex>.att`
 * manifest (cosign ATTESTATION_SPEC.md) whose `predicateType` annotation, when present, is the
 * vuln predicate. Unreachable upstreams throw; an unusable `.att` manifest or layer is skipped (it proves nothing).
 */
export async function discoverVulnAttestations(
  client: UpstreamClient,
  repository: string,
  digest: Digest,
  limits: DiscoveryLimits,
): Promise<AttestationEnvelope[]> {
  const budget = new RequestBudget(limits.maxRequests);
  const tag = `${referrersTag(digest)}.att`;
  let described: readonly BlobDescriptor[];
  try {
    const manifest = await findManifest(client, { repository, reference: { kind: 'tag', tag }, accept: SIGNATURE_MANIFEST_ACCEPT, budget });
    if (manifest === undefined) return [];
    described = describedManifest(client.config.name, manifest).layers ?? [];
  } catch (error) {
    if (isUnusableAnswer(error)) return [];
    throw error;
  }
  const layers = described.filter(
    (layer) => layer.mediaType === DSSE_LAYER && (layer.annotations?.['predicateType'] ?? VULN_PREDICATE) === VULN_PREDICATE,
  );
  const found: AttestationEnvelope[] = [];
  for (const [i, layer] of layers.slice(0, limits.maxSignatures).entries()) {
    try {
      found.push({
        source: `vuln attestation ${i + 1}`,
        envelope: await fetchSmallBlob(client, repository, layer.digest, layer.size, limits.maxBlobBytes, budget),
      });
    } catch (error) {
      if (!isUnusableAnswer(error)) throw error;
    }
  }
  return found;
}
