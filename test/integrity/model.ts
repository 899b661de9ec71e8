// The graph model the integrity oracle reasons about (docs/integrity.md "The invariant"): plain data
// built by test/integrity/graph.ts, served by graph-upstream.ts or pushed into a real registry, and
// judged by expected.ts. Nothing here imports src/: the expected answer must not share trustgate's code.
import { createHash } from 'node:crypto';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  empty: 'application/vnd.oci.empty.v1+json',
  notation: 'application/vnd.cncf.notary.signature',
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  bundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  cosignSigArtifact: 'application/vnd.dev.cosign.artifact.sig.v1+json',
} as const;

/** Every manifest type a client (and so the oracle's client) accepts. */
export const ACCEPT = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList].join(', ');

/** Layer media types that carry only signatures or attestations (the brief's list, written out again on purpose). */
export const SIGNATURE_LAYER_TYPES: ReadonlySet<string> = new Set([
  MT.simpleSigning,
  'application/vnd.dsse.envelope.v1+json',
  'application/jose+json',
  'application/cose',
  MT.bundle,
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.in-toto+json',
]);
export const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MT.ociConfig, MT.dockerConfig]);

/** The five attack classes of issue #11, plus liveness (a deny-everything gate) and anything else. */
export type ViolationClass =
  'index-as-signature' | 'fake-signature-blob' | 'verdict-key' | 'stale-allowance' | 'smuggling' | 'liveness' | 'other';
export const ATTACK_CLASSES: readonly ViolationClass[] = [
  'index-as-signature',
  'fake-signature-blob',
  'verdict-key',
  'stale-allowance',
  'smuggling',
];

export type Signer = 'K' | 'U' | 'bad';
export type MultiArch = 'index' | 'each';
export type Identity = 'any' | 'exact';

export interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
  /** The media type the blob was made as (a manifest may declare it otherwise: that is the fake signature). */
  readonly mediaType: string;
  /** Whether the bytes parse as JSON: a signature artifact's blob is legitimate only then. */
  readonly json: boolean;
  /** sha256 of the uncompressed tar, for layers. */
  readonly diffId?: string;
}

export type NodeKind = 'image' | 'index' | 'sig' | 'bundle' | 'listing' | 'dressed-index' | 'fake-sig';

export interface CosignSig {
  readonly signer: Signer;
  /** critical.identity.docker-reference */
  readonly reference: string;
}

export interface Node {
  readonly digest: string;
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly kind: NodeKind;
  readonly isIndex: boolean;
  /** Config and layer digests (image manifests), in manifest order. */
  readonly blobs: readonly string[];
  /** Child manifest digests (indexes). */
  readonly children: readonly string[];
  /** cosign `.sig` signatures over this digest. */
  readonly sigs: CosignSig[];
  /** The attack shape this node belongs to, for naming a violation's class. */
  readonly attack?: ViolationClass;
}

export interface Graph {
  readonly id: number;
  /** Repository path on the upstream, e.g. `allowed/g7`. */
  readonly repo: string;
  /** Canonical name, `<host>/<repo>`. */
  readonly name: string;
  readonly multiArch: MultiArch;
  readonly identity: Identity;
  readonly nodes: ReadonlyMap<string, Node>;
  readonly tags: ReadonlyMap<string, string>;
  readonly blobs: ReadonlyMap<string, Blob>;
  /** The digest a break-glass entry may be opened for. */
  readonly breakGlass: string | undefined;
  /** A tar.gz layer of a denied image: what a smuggled request asks the upstream for. */
  readonly deniedLayer: string | undefined;
}

export type Ref = { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'digest'; readonly digest: string };
export const refText = (ref: Ref): string => (ref.kind === 'tag' ? ref.tag : ref.digest);
/** The reference a client used, as a signed docker-reference would spell it. */
export const fullRef = (g: Graph, ref: Ref): string => (ref.kind === 'tag' ? `${g.name}:${ref.tag}` : `${g.name}@${ref.digest}`);

export const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
/** The referrers fallback tag and cosign's `.sig` tag for a digest. */
export const fallbackTag = (digest: string): string => digest.replace(':', '-');
export const sigTag = (digest: string): string => `${fallbackTag(digest)}.sig`;

export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
