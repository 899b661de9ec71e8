// Manifest shapes from image-spec manifest.md / image-index.md and distribution manifest-v2-2.md.
import { bareMediaType, isIndex, isSchema1, SUPPORTED_MANIFEST_TYPES } from './media-types.ts';
import { isDigest, printable, type Digest } from './reference.ts';

/** A descriptor as the manifest declares it (image-spec descriptor.md): what it says, not what the blob is. */
export interface BlobDescriptor {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  /** image-spec descriptor.md "artifactType": the artifact a manifest descriptor points at (referrers list it). */
  readonly artifactType?: string;
  /** image-spec annotations.md: string keys to string values. */
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ParsedManifest {
  readonly mediaType: string;
  /** For an index: the child manifests it lists. */
  readonly children: readonly Digest[];
  /** For an image manifest: the config and layer blobs. */
  readonly blobs: readonly Digest[];
  readonly subject: Digest | undefined;
  readonly artifactType: string | undefined;
  readonly configMediaType: string | undefined;
  /** Layer media types, in order (image manifests). */
  readonly layerMediaTypes: readonly string[];
  /** Each child's artifactType, or its mediaType when absent (indexes). */
  readonly childArtifactTypes: readonly (string | undefined)[];
  /** For an image manifest: the config descriptor, when it is well formed. */
  readonly config: BlobDescriptor | undefined;
  /** For an image manifest: the layer descriptors, in order; undefined when one is malformed (see `descriptorOf`). */
  readonly layers: readonly BlobDescriptor[] | undefined;
  /** For an index: the child descriptors, in order; undefined when one is malformed. */
  readonly manifests: readonly BlobDescriptor[] | undefined;
}

export type ManifestParse =
  | { readonly ok: true; readonly manifest: ParsedManifest }
  | { readonly ok: false; readonly kind: 'schema1' | 'unsupported' | 'invalid'; readonly problem: string };

/** Parses the exact bytes served; the media type comes from Content-Type and must agree with the body. */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ManifestParse {
  const header = bareMediaType(contentType);
  if (isSchema1(header)) return { ok: false, kind: 'schema1', problem: 'Docker schema 1 manifests cannot be signed and are refused' };
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, kind: 'invalid', problem: 'manifest is not valid JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, kind: 'invalid', problem: 'manifest is not a JSON object' };
  }
  const doc = body as Record<string, unknown>;
  if (doc['schemaVersion'] === 1)
    return { ok: false, kind: 'schema1', problem: 'Docker schema 1 manifests cannot be signed and are refused' };
  if (doc['schemaVersion'] !== 2) return { ok: false, kind: 'invalid', problem: 'manifest schemaVersion must be 2' };
  const declared = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  const mediaType = SUPPORTED_MANIFEST_TYPES.includes(header) ? header : declared;
  if (mediaType === undefined || !SUPPORTED_MANIFEST_TYPES.includes(mediaType)) {
    return { ok: false, kind: 'unsupported', problem: `unsupported manifest media type "${printable(header || declared || 'none', 100)}"` };
  }
  // image-spec manifest.md: when mediaType is present it must match the descriptor/Content-Type.
  if (declared !== undefined && declared !== mediaType) {
    return {
      ok: false,
      kind: 'invalid',
      problem: `Content-Type "${mediaType}" disagrees with the manifest's mediaType "${printable(declared, 100)}"`,
    };
  }
  const digests = (list: unknown): Digest[] | undefined => {
    if (list === undefined) return [];
    if (!Array.isArray(list)) return undefined;
    const out: Digest[] = [];
    for (const entry of list) {
      const digest = (entry as { digest?: unknown } | null)?.digest;
      if (typeof digest !== 'string' || !isDigest(digest)) return undefined;
      out.push(digest);
    }
    return out;
  };
  const children = isIndex(mediaType) ? digests(doc['manifests']) : [];
  const layers = isIndex(mediaType) ? [] : digests(doc['layers']);
  const config = isIndex(mediaType) ? [] : digests(doc['config'] === undefined ? [] : [doc['config']]);
  if (children === undefined || layers === undefined || config === undefined) {
    return { ok: false, kind: 'invalid', problem: 'manifest lists a descriptor without a valid digest' };
  }
  const subjectDigest = (doc['subject'] as { digest?: unknown } | undefined)?.digest;
  const mediaTypeOf = (entry: unknown): string | undefined => {
    const value = (entry as { mediaType?: unknown } | null)?.mediaType;
    return typeof value === 'string' ? value : undefined;
  };
  const list = (key: string): unknown[] => (Array.isArray(doc[key]) ? (doc[key] as unknown[]) : []);
  const layerDescriptors = isIndex(mediaType) ? [] : list('layers').map(descriptorOf);
  const childDescriptors = isIndex(mediaType) ? list('manifests').map(descriptorOf) : [];
  return {
    ok: true,
    manifest: {
      mediaType,
      children,
      blobs: [...config, ...layers],
      subject: typeof subjectDigest === 'string' && isDigest(subjectDigest) ? subjectDigest : undefined,
      artifactType: typeof doc['artifactType'] === 'string' ? doc['artifactType'] : undefined,
      configMediaType: mediaTypeOf(doc['config']),
      layerMediaTypes: isIndex(mediaType) ? [] : list('layers').map((l) => mediaTypeOf(l) ?? ''),
      childArtifactTypes: isIndex(mediaType)
        ? list('manifests').map((m) => {
            const type = (m as { artifactType?: unknown } | null)?.artifactType;
            return typeof type === 'string' ? type : undefined;
          })
        : [],
      config: isIndex(mediaType) ? undefined : descriptorOf(doc['config']),
      layers: allWellFormed(layerDescriptors),
      manifests: allWellFormed(childDescriptors),
    },
  };
}

/**
 * A well-formed descriptor (image-spec descriptor.md): mediaType, digest and size are required; an
 * artifactType, when present, is a string; annotations, when present, map strings to strings
 * (annotations.md "Rules"). Anything else is malformed: undefined.
 */
function descriptorOf(entry: unknown): BlobDescriptor | undefined {
  const d = entry as { digest?: unknown; mediaType?: unknown; size?: unknown; artifactType?: unknown; annotations?: unknown } | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return undefined;
  const { digest, mediaType, size, artifactType, annotations } = d;
  if (typeof digest !== 'string' || !isDigest(digest) || typeof mediaType !== 'string') return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  if (artifactType !== undefined && typeof artifactType !== 'string') return undefined;
  if (annotations !== undefined && !isStringMap(annotations)) return undefined;
  return {
    digest,
    mediaType,
    size,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

function isStringMap(value: unknown): value is Readonly<Record<string, string>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

function allWellFormed(descriptors: readonly (BlobDescriptor | undefined)[]): readonly BlobDescriptor[] | undefined {
  return descriptors.every((d) => d !== undefined) ? (descriptors as BlobDescriptor[]) : undefined;
}
