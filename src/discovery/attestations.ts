import { isTrustgateError } from '../errors/errors.ts';
import { referrersTag } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { RequestBudget } from '../upstream/budget.ts';
import type { DiscoveryLimits } from './discover.ts';
import { fetchSmallBlob } from '../upstream/fetch-blob.ts';
import { fetchJson, type Descriptor } from '../upstream/fetch-json.ts';

const DSSE_LAYER = 'application/vnd.dsse.envelope.v1+json';
const VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';

export interface AttestationEnvelope {
  readonly source: string;
  readonly envelope: Buffer;
}

/**
 * The vulnerability attestations next to an image: the DSSE layers of cosign's `sha256-<hex>.att`
 * manifest (cosign ATTESTATION_SPEC.md) whose `predicateType` annotation, when present, is the
 * vuln predicate. Unreachable upstreams throw; unreadable layers are skipped (they prove nothing).
 */
export async function discoverVulnAttestations(
  client: UpstreamClient,
  repository: string,
  digest: Digest,
  limits: DiscoveryLimits,
): Promise<AttestationEnvelope[]> {
  const budget = new RequestBudget(limits.maxRequests);
  const tag = `${referrersTag(digest)}.att`;
  let manifest;
  try {
    manifest = await fetchJson(client, repository, `manifests/${tag}`, `${MediaType.ociManifest}, ${MediaType.dockerManifest}`, budget);
  } catch (error) {
    if (isTrustgateError(error) && error.code === 'UPSTREAM_BAD_RESPONSE') return [];
    throw error;
  }
  if (manifest === undefined) return [];
  const layers = ((manifest.json['layers'] as Descriptor[] | undefined) ?? []).filter(
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
      if (!isTrustgateError(error) || error.code !== 'UPSTREAM_BAD_RESPONSE') throw error;
    }
  }
  return found;
}
