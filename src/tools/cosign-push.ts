// Writes a cosign signature the way `cosign sign --key` stores it (SIGNATURE_SPEC.md "Storage"):
// tag `sha256-<hex>.sig` in the image's repository, an OCI manifest whose layers are the
// simple-signing payloads, each carrying its signature in an annotation. A signature made for a
// digest that already has a `.sig` manifest is appended as one more layer, as cosign does.
import type { KeyObject } from 'node:crypto';
import { sha256Digest } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';
import { decodeStdBase64 } from '../verify/cosign/base64.ts';
import { verifyWithKey } from '../verify/cosign/key-verify.ts';
import { COSIGN_SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from './cosign-payload.ts';
import type { RegistrySession } from './registry-push.ts';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

interface LayerDescriptor {
  readonly mediaType: string;
  readonly size: number;
  readonly digest: string;
  readonly annotations?: Record<string, string>;
}

export interface AttachedSignature {
  /** `sha256-<hex>.sig` */
  readonly tag: string;
  /** Digest of the `.sig` manifest now under that tag. */
  readonly digest: string;
  /** Signatures (layers) in it. */
  readonly layers: number;
  /** True when an equal signature by the same key was already there and nothing was written. */
  readonly unchanged: boolean;
}

/** cosign's tag for a digest's signatures: `sha256:<hex>` → `sha256-<hex>.sig`. */
export const signatureTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;

export async function attachCosignSignature(
  session: RegistrySession,
  subjectDigest: string,
  payload: Buffer,
  signature: string,
  publicKey: KeyObject,
): Promise<AttachedSignature> {
  const tag = signatureTag(subjectDigest);
  const existing = await session.getManifest(tag, [MediaType.ociManifest, MediaType.dockerManifest]);
  const layers = existing === undefined ? [] : existingLayers(existing.bytes, tag);
  // cosign's duplicate detector: the same payload already signed by this key is not added again.
  const payloadDigest = sha256Digest(payload);
  const duplicate = layers.some((layer) => {
    const sig = layer.digest === payloadDigest ? decodeStdBase64(layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION] ?? '') : undefined;
    return sig !== undefined && verifyWithKey(publicKey, payload, sig) === 'ok';
  });
  if (existing !== undefined && duplicate) return { tag, digest: existing.digest, layers: layers.length, unchanged: true };

  const blob = await session.putBlob(payload);
  const all: LayerDescriptor[] = [
    ...layers,
    { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, ...blob, annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature } },
  ];
  // go-containerregistry's config for cosign's empty image with the payloads as layers.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: all.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: all.map((layer) => layer.digest) },
      config: {},
    }),
  );
  const configBlob = await session.putBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: OCI_CONFIG, ...configBlob },
      layers: all,
    }),
  );
  const digest = await session.putManifest(tag, manifest, MediaType.ociManifest);
  return { tag, digest, layers: all.length, unchanged: false };
}

function existingLayers(bytes: Buffer, tag: string): LayerDescriptor[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const layers = (parsed as { layers?: unknown } | undefined)?.layers;
  const valid =
    Array.isArray(layers) &&
    layers.every(
      (l: Partial<LayerDescriptor> | null) =>
        typeof l?.mediaType === 'string' && typeof l.digest === 'string' && typeof l.size === 'number',
    );
  if (!valid) throw new Error(`tag ${tag} exists but is not a cosign signature manifest; not overwriting it`);
  return layers as LayerDescriptor[];
}
