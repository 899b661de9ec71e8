// Which manifests are signatures or attestations rather than runnable images (PROTOCOL §5 item 3):
// decided from the served manifest's own types, never from its tag.
import { isIndex } from './media-types.ts';
import type { ParsedManifest } from './manifest.ts';

/** Layer media types that carry only signatures or attestations (cosign, DSSE, notation, sigstore bundles). */
const SIGNATURE_LAYERS = new Set([
  'application/vnd.dev.cosign.simplesigning.v1+json',
  'application/vnd.dsse.envelope.v1+json',
  'application/jose+json',
  'application/cose',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
]);

/** artifactType / config media types of signature and attestation artifacts. */
const SIGNATURE_ARTIFACTS = new Set([
  'application/vnd.cncf.notary.signature',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.dev.cosign.artifact.att.v1+json',
  'application/vnd.in-toto+json',
]);

/** cosign's `.sig`/`.att` manifests use a plain OCI (or Docker) image config. */
const COSIGN_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/**
 * A manifest every one of whose layers is a signature or attestation type, typed as such by its
 * artifactType or config. A runnable image (any tar layer) never passes.
 */
export function isSignatureArtifact(manifest: ParsedManifest): boolean {
  if (isIndex(manifest.mediaType)) return isReferrersIndex(manifest);
  if (manifest.layerMediaTypes.length === 0 || !manifest.layerMediaTypes.every((t) => SIGNATURE_LAYERS.has(t))) return false;
  const declared = manifest.artifactType ?? manifest.configMediaType ?? '';
  return SIGNATURE_ARTIFACTS.has(declared) || COSIGN_CONFIGS.has(declared) || declared === 'application/vnd.oci.empty.v1+json';
}

/** A referrers index (or fallback-tag index) that lists only signature and attestation artifacts. */
function isReferrersIndex(manifest: ParsedManifest): boolean {
  return manifest.childArtifactTypes.every((type) => type !== undefined && SIGNATURE_ARTIFACTS.has(type));
}
