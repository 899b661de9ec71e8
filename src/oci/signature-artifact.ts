// Which manifests are signatures or attestations rather than runnable images, decided from their own
// content (docs/integrity.md "Signature artifacts"): never from a tag, an artifactType, or what an
// index or referrers listing declares about them.
import { referrersTag } from './digest.ts';
import type { BlobDescriptor, ParsedManifest } from './manifest.ts';
import { isIndex } from './media-types.ts';
import { isDigest, type Reference } from './reference.ts';

/** Layer media types that carry only signatures or attestations (cosign, DSSE, notation, sigstore bundles, in-toto). */
const SIGNATURE_LAYERS: ReadonlyMap<string, (doc: unknown, bytes: Buffer) => boolean> = new Map([
  ['application/vnd.dev.cosign.simplesigning.v1+json', (doc: unknown) => isObject(doc) && isObject(doc['critical'])],
  [
    'application/vnd.dsse.envelope.v1+json',
    (doc: unknown) => isObject(doc) && typeof doc['payloadType'] === 'string' && Array.isArray(doc['signatures']),
  ],
  [
    'application/jose+json',
    (doc: unknown) => isObject(doc) && typeof doc['protected'] === 'string' && typeof doc['signature'] === 'string',
  ],
  ['application/cose', (_doc: unknown, bytes: Buffer) => isCoseSign1(bytes)],
  ['application/vnd.dev.sigstore.bundle.v0.3+json', isBundle],
  ['application/vnd.dev.sigstore.bundle+json;version=0.3', isBundle],
  ['application/vnd.dev.sigstore.bundle+json;version=0.2', isBundle],
  ['application/vnd.dev.sigstore.bundle+json;version=0.1', isBundle],
  ['application/vnd.in-toto+json', (doc: unknown) => isObject(doc) && typeof doc['_type'] === 'string'],
]);

/** image-spec manifest.md "Guidance for an Empty Descriptor": the blob `{}`, fixed by its digest. */
export const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
} as const;
/** notation's config in image-manifest mode (notaryproject signature-specification "OCI image manifest"): the blob `{}`. */
const NOTATION_CONFIG = 'application/vnd.cncf.notary.signature';
/** cosign's `.sig`/`.att` manifests carry a plain image config with rootfs.diff_ids naming the signature layers. */
const IMAGE_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** The config blob's format, as recorded for the blob gate (a signature artifact's config is checked again when served). */
export const SIGNATURE_CONFIG_FORMAT = 'signature-config';

/** What the content rule needs to read to finish: the config blob, unless its digest alone fixes it. */
export interface SignatureCandidate {
  readonly config: BlobDescriptor;
  readonly layers: readonly BlobDescriptor[];
  /** True when the config is the empty descriptor: its digest fixes its bytes, nothing to read. */
  readonly configKnown: boolean;
}

/**
 * The first half of the content rule, without I/O: an image manifest (never an index) with at
 * least one layer, every layer of a signature media type, and a config of a type a signature
 * uses. The config's bytes must still pass `isSignatureConfig`.
 */
export function signatureCandidate(manifest: ParsedManifest): SignatureCandidate | undefined {
  const { config, layers } = manifest;
  if (isIndex(manifest.mediaType) || config === undefined || layers === undefined || layers.length === 0) return undefined;
  if (!layers.every((layer) => SIGNATURE_LAYERS.has(layer.mediaType))) return undefined;
  const empty = config.digest === EMPTY_CONFIG.digest && config.size === EMPTY_CONFIG.size; // the digest fixes the bytes: `{}`
  if (config.mediaType === EMPTY_CONFIG.mediaType) return empty ? { config, layers, configKnown: true } : undefined;
  if (config.mediaType !== NOTATION_CONFIG && !IMAGE_CONFIGS.has(config.mediaType)) return undefined;
  return { config, layers, configKnown: empty };
}

/**
 * The second half: the config blob's own bytes. notation's is `{}`; an image config must run
 * nothing (no Entrypoint, Cmd or Env) and its rootfs.diff_ids must be exactly the layer digests,
 * as cosign writes it, so it cannot be a runnable image's config reused.
 */
export function isSignatureConfig(bytes: Buffer, candidate: SignatureCandidate): boolean {
  const doc = parseJson(bytes);
  if (!isObject(doc)) return false;
  if (Object.keys(doc).length === 0) return true; // `{}` runs nothing and names no layers
  if (!IMAGE_CONFIGS.has(candidate.config.mediaType)) return false;
  const rootfs = doc['rootfs'];
  const diffIds = isObject(rootfs) ? rootfs['diff_ids'] : undefined;
  if (!Array.isArray(diffIds) || diffIds.length !== candidate.layers.length) return false;
  if (!diffIds.every((id, i) => id === candidate.layers[i]!.digest)) return false;
  return runsNothing(doc);
}

/**
 * Whether a blob reachable only through a signature artifact may be served: its bytes parse as
 * the format its descriptor declares. A tar or gzip layer never does.
 */
export function parsesAsSignatureBlob(bytes: Buffer, format: string): boolean {
  if (format === SIGNATURE_CONFIG_FORMAT) {
    const doc = parseJson(bytes);
    return isObject(doc) && runsNothing(doc);
  }
  const check = SIGNATURE_LAYERS.get(format);
  if (check === undefined) return false;
  return check(format === 'application/cose' ? undefined : parseJson(bytes), bytes);
}

/**
 * The referrers fallback tag (distribution-spec "Referrers Tag Schema"), answered as a listing:
 * an index asked for by the tag `<alg>-<hex>`. It is served, and allows nothing it lists.
 */
export function isReferrersListing(requested: Reference, manifest: ParsedManifest): boolean {
  if (requested.kind !== 'tag' || !isIndex(manifest.mediaType)) return false;
  const dash = requested.tag.indexOf('-');
  const digest = `${requested.tag.slice(0, dash)}:${requested.tag.slice(dash + 1)}`;
  return dash > 0 && isDigest(digest) && referrersTag(digest) === requested.tag;
}

function runsNothing(doc: Record<string, unknown>): boolean {
  const config = doc['config'];
  if (config === undefined || config === null) return true;
  if (!isObject(config)) return false;
  return ['Entrypoint', 'Cmd', 'Env'].every(
    (field) => config[field] === undefined || config[field] === null || (Array.isArray(config[field]) && config[field].length === 0),
  );
}

function isBundle(doc: unknown): boolean {
  return isObject(doc) && typeof doc['mediaType'] === 'string' && doc['mediaType'].startsWith('application/vnd.dev.sigstore.bundle');
}

/** RFC 9052 §4.2: COSE_Sign1 is CBOR tag 18 (0xd2) around an array of four, or the bare array (0x84). */
function isCoseSign1(bytes: Buffer): boolean {
  return bytes.length > 1 && (bytes[0] === 0x84 || (bytes[0] === 0xd2 && bytes[1] === 0x84));
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
