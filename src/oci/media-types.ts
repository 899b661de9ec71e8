// image-spec media-types.md and distribution manifest-v2-2.md.
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const SUPPORTED_MANIFEST_TYPES: readonly string[] = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
];

const SCHEMA1 = new Set<string>([MediaType.dockerSchema1, MediaType.dockerSchema1Signed]);

export function isSchema1(mediaType: string): boolean {
  return SCHEMA1.has(mediaType);
}

export function isIndex(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

/** Content-Type without parameters (distribution-spec: clients ignore parameters). */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The Accept header trustgate sends upstream: the client's list with schema 1 removed, so the
 * registry never answers with a format no signature can cover. An empty result falls back to
 * every supported type.
 */
export function upstreamAccept(clientAccept: string | undefined): string {
  const kept = (clientAccept ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !isSchema1(bareMediaType(part)));
  const concrete = kept.filter((part) => !bareMediaType(part).includes('*'));
  return (concrete.length > 0 ? concrete : SUPPORTED_MANIFEST_TYPES).join(', ');
}
