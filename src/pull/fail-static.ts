import type { BlobStore } from '../blobcache/types.ts';
import type { Logger } from '../log/logger.ts';
import { algorithmOf, digestOf } from '../oci/digest.ts';
import { parseManifest } from '../oci/manifest.ts';
import { upstreamAccept } from '../oci/media-types.ts';
import type { Digest } from '../oci/reference.ts';
import { repositoryPath, repositoryScope } from '../upstream/registry-paths.ts';
import type { Source } from '../upstream/source.ts';
import type { UpstreamClient } from '../upstream/types.ts';
import { upstreamError } from '../upstream/upstream-answer.ts';
import type { VerifiedManifest } from './manifest-cache.ts';
import type { StaticManifests } from './manifest-fetch.ts';

/**
 * The manifests fail static may answer with (docs/blob-cache.md "Fail static"): every manifest
 * served under a verdict is kept in the blob cache under its digest, linked to its upstream and
 * repository. While the upstream is unreachable, a pull by digest is answered from this copy,
 * hashed again and parsed from its own bytes, marked `static`: the gate then serves it only under
 * a verdict it already holds (verifying needs the upstream), and never by break glass.
 */
export function createStaticManifests(
  store: BlobStore,
  clientFor: (upstream: string) => UpstreamClient,
  maxBytes: number,
  logger: Logger,
  onServed: (upstream: string) => void,
): StaticManifests {
  return {
    async confirm(source, digest) {
      const client = clientFor(source.upstream.name);
      const response = await client
        .request({
          method: 'HEAD',
          path: repositoryPath(source.repository, `manifests/${digest}`),
          headers: { accept: upstreamAccept(undefined) }, // every type trustgate reads: the registry answers only for those it is asked
          scope: repositoryScope(source.repository),
          maxBytes: 0,
        })
        .catch((error: unknown) => {
          throw upstreamError(source.upstream.name, { thrown: error, timeouts: client.config.timeouts });
        });
      if (response.status !== 200) {
        throw upstreamError(source.upstream.name, { status: response.status, headers: response.headers, missing: 'MANIFEST_UNKNOWN' });
      }
    },
    keep(source, manifest) {
      if (store.lookup(manifest.digest, source.upstream.name, source.repository)?.linked === true) return;
      void store.putBytes(manifest.digest, manifest.bytes, source.upstream.name, source.repository).catch((error: unknown) => {
        logger.warn({ event: 'fail_static_keep_failed', err: error }, 'could not keep a manifest for fail static');
      });
    },
    async recall(source: Source, digest: Digest): Promise<VerifiedManifest | undefined> {
      if (store.lookup(digest, source.upstream.name, source.repository)?.linked !== true) return undefined;
      const bytes = await store.readBytes(digest, maxBytes);
      if (bytes === undefined || digestOf(bytes, algorithmOf(digest)) !== digest) return undefined;
      // The media type is the manifest's own `mediaType` (the upstream's Content-Type is not kept):
      // a manifest without one is not recalled, and a different type would be a different verdict key.
      const parsed = parseManifest(bytes, undefined);
      if (!parsed.ok) return undefined;
      onServed(source.upstream.name);
      return { bytes, digest, parsed: parsed.manifest, static: true };
    },
  };
}
