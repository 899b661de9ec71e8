// Small OCI documents for the hardening tests (image-spec manifest.md, image-index.md).
import { generateKeyPairSync } from 'node:crypto';
import { MediaType } from '../../src/oci/media-types.ts';
import { digestOf } from '../support/fake-upstream.ts';

export const FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
export const COSIGN_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';

export interface Doc {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
}

function doc(value: object, mediaType: string): Doc {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: digestOf(bytes), mediaType };
}

/** An OCI image manifest; `layers` are extra fields per layer (e.g. foreign `urls`). */
export function imageManifest(seed: string, layers: readonly Record<string, unknown>[] = [{}]): Doc {
  const config = Buffer.from(`{"seed":"${seed}"}`);
  return doc(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: layers.map((extra, i) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: digestOf(Buffer.from(`${seed}-layer-${i}`)),
        size: 10 + i,
        ...extra,
      })),
    },
    MediaType.ociManifest,
  );
}

/** An OCI index over `children`, each descriptor merged with `extra`. */
export function imageIndex(children: readonly Doc[], extra: Record<string, unknown> = {}): Doc {
  return doc(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: children.map((c) => ({
        mediaType: c.mediaType,
        digest: c.digest,
        size: c.bytes.length,
        platform: { os: 'linux', architecture: 'amd64' },
        ...extra,
      })),
    },
    MediaType.ociIndex,
  );
}

/** A cosign `.sig` manifest whose one layer is `payload` (its bytes are served, or redirected, by the test). */
export function cosignSignatureManifest(payload: Buffer): Doc {
  const config = Buffer.from('{}');
  return doc(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [
        {
          mediaType: COSIGN_LAYER,
          digest: digestOf(payload),
          size: payload.length,
          annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' },
        },
      ],
    },
    MediaType.ociManifest,
  );
}

/** A policy that needs one signature from the trust store for every image, children of indexes included. */
export const SIGNED_POLICY = 'version: 1\nrules:\n  - { name: strict, images: ["**"], mode: enforce, multiArch: each }\n';

/** A trust-store key (P-256 SPKI PEM) for `scopes`, made now. */
export function trustKey(id: string, scopes: readonly string[]): { id: string; pem: string; scopes: readonly string[] } {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { id, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), scopes };
}

/** `<alg>-<hex>` tag of a digest (the cosign `.sig` tag and the referrers fallback tag). */
export function digestTag(digest: string): string {
  return digest.replace(':', '-');
}
