// Random registry graphs for the integrity oracle: a fast-check spec (plain numbers and flags, so it
// shrinks well) and the builder that turns one into real bytes, signed with real keys made at test
// time (test/kit cosign helpers). The expected answers live in expected.ts.
import type { KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { COSIGN_SIGNATURE_ANNOTATION, makeSigstoreBundle, makeSimpleSigningPayload, signPayload } from '../kit/cosign-sign.ts';
import { seededBytes, tarOneFile } from '../kit/oci-image.ts';
import {
  fallbackTag,
  MT,
  parseJson,
  sha256,
  sigTag,
  type Blob,
  type Graph,
  type Identity,
  type MultiArch,
  type Node,
  type NodeKind,
  type Ref,
  type Signer,
  type ViolationClass,
} from './model.ts';

export interface SigSpec {
  readonly signer: Signer;
  readonly tag: number;
  readonly byDigest: boolean;
}
export interface ImageSpec {
  readonly docker: boolean;
  readonly gzip: readonly boolean[];
  readonly share: number | undefined;
  readonly tags: readonly number[];
  readonly sig: SigSpec | undefined;
  readonly bundle: boolean;
}
export interface IndexSpec {
  readonly docker: boolean;
  readonly children: readonly number[];
  readonly tags: readonly number[];
  readonly sig: SigSpec | undefined;
}
export interface GraphSpec {
  readonly multiArch: MultiArch;
  readonly identity: Identity;
  readonly images: readonly ImageSpec[];
  readonly indexes: readonly IndexSpec[];
  /** Attack 1: an index typed as a cosign signature around an unsigned image, and one with no children. */
  readonly dressed: boolean;
  /** Attack 2: an image manifest whose "signature" layer is a denied image's tar.gz layer. */
  readonly fake: { readonly cosignShaped: boolean; readonly atSig: boolean } | undefined;
  /** Attack 3: image 0 tagged :v1 and :prod, signed by K for :v1 only. */
  readonly exactTrio: boolean;
  /** Attack 4: which index (or image) a break-glass entry names. */
  readonly breakGlass: number | undefined;
}
export type Step =
  /** `walk`: on a 200, go on like a client pulling: an index's first (linux/amd64) child, then an image's config and layers. */
  | { readonly kind: 'manifest'; readonly pick: number; readonly head: boolean; readonly walk: boolean }
  | { readonly kind: 'blob'; readonly pick: number; readonly head: boolean }
  | { readonly kind: 'bg-open' | 'bg-end' | 'revoke' }
  | { readonly kind: 'smuggle'; readonly head: boolean; readonly catalog: boolean };
export interface GraphCase {
  readonly spec: GraphSpec;
  readonly steps: readonly Step[];
}

const IMAGE_TAGS = ['v1', 'prod', 'latest', 'dev'];
const INDEX_TAGS = ['multi', 'all'];
const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

/** true with odds `yes` : `no` (the generator's weights: each attack shape is found within a few hundred graphs). */
const odds = (yes: number, no: number): fc.Arbitrary<boolean> =>
  fc.oneof({ weight: yes, arbitrary: fc.constant(true) }, { weight: no, arbitrary: fc.constant(false) });
const sigSpec: fc.Arbitrary<SigSpec> = fc.record({
  signer: fc.constantFrom<Signer>('K', 'K', 'K', 'U', 'bad'),
  tag: fc.nat(3),
  byDigest: odds(1, 5),
});
const imageSpec: fc.Arbitrary<ImageSpec> = fc.record({
  docker: odds(1, 2),
  gzip: fc.array(odds(3, 1), { minLength: 1, maxLength: 3 }),
  share: fc.option(fc.nat(3), { nil: undefined, freq: 3 }),
  tags: fc.uniqueArray(fc.nat(3), { maxLength: 2 }),
  sig: fc.option(sigSpec, { nil: undefined, freq: 4 }),
  bundle: odds(1, 3),
});
const indexSpec: fc.Arbitrary<IndexSpec> = fc.record({
  docker: odds(1, 2),
  children: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 3 }),
  tags: fc.uniqueArray(fc.nat(1), { maxLength: 1 }),
  sig: fc.option(sigSpec, { nil: undefined, freq: 2 }),
});
export const graphSpec: fc.Arbitrary<GraphSpec> = fc.record({
  multiArch: fc.constantFrom<MultiArch>('index', 'each'),
  identity: fc.constantFrom<Identity>('any', 'exact'),
  images: fc.array(imageSpec, { minLength: 1, maxLength: 3 }),
  indexes: fc.array(indexSpec, { maxLength: 2 }),
  dressed: odds(2, 3),
  fake: fc.option(fc.record({ cosignShaped: fc.boolean(), atSig: odds(1, 3) }), { nil: undefined, freq: 2 }),
  exactTrio: fc.boolean(),
  breakGlass: fc.option(fc.nat(7), { nil: undefined, freq: 3 }),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('manifest' as const), pick: fc.nat(), head: odds(1, 4), walk: odds(1, 2) }) },
  { weight: 14, arbitrary: fc.record({ kind: fc.constant('blob' as const), pick: fc.nat(), head: odds(1, 4) }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'bg-open' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'bg-end' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'revoke' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('smuggle' as const), head: fc.boolean(), catalog: fc.boolean() }) },
);
export const graphCase = (maxSteps = 20): fc.Arbitrary<GraphCase> =>
  fc.record({ spec: graphSpec, steps: fc.array(step, { minLength: 4, maxLength: maxSteps }) });

export interface BuildContext {
  readonly id: number;
  readonly repo: string;
  readonly name: string;
  readonly k: KeyObject;
  readonly u: KeyObject;
}

/** Collects blobs, manifests and tags; every manifest is serialised once, so its digest is that of the bytes served. */
class Builder {
  readonly nodes = new Map<string, Node>();
  readonly blobs = new Map<string, Blob>();
  readonly tags = new Map<string, string>();
  constructor(readonly ctx: BuildContext) {}

  blob(bytes: Buffer, mediaType: string, diffId?: string): Blob {
    const made: Blob = {
      digest: sha256(bytes),
      bytes,
      mediaType,
      json: parseJson(bytes) !== undefined,
      ...(diffId === undefined ? {} : { diffId }),
    };
    if (!this.blobs.has(made.digest)) this.blobs.set(made.digest, made);
    return this.blobs.get(made.digest)!;
  }

  manifest(doc: Record<string, unknown>, kind: NodeKind, attack?: ViolationClass): Node {
    const mediaType = doc['mediaType'] as string;
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, ...doc }));
    const isIndex = mediaType === MT.ociIndex || mediaType === MT.dockerList;
    const descriptors = (isIndex ? [] : [doc['config'], ...(doc['layers'] as unknown[])]) as Array<{ digest: string }>;
    const children = isIndex ? (doc['manifests'] as Array<{ digest: string }>).map((c) => c.digest) : [];
    const node: Node = {
      digest: sha256(bytes),
      bytes,
      mediaType,
      kind,
      isIndex,
      blobs: descriptors.map((d) => d.digest),
      children,
      sigs: [],
      ...(attack === undefined ? {} : { attack }),
    };
    this.nodes.set(node.digest, node);
    return node;
  }

  /** A runnable image: a config with Entrypoint, Cmd, Env and the layers' diff_ids, 1–3 tar(+gzip) layers. */
  image(seed: string, docker: boolean, gzip: readonly boolean[], shared?: Blob, attack?: ViolationClass): Node {
    const layers = gzip.map((zip, i) => (i === 0 && shared !== undefined ? shared : this.layer(`${seed}/${i}`, docker || zip, docker)));
    const config = this.blob(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          created: '2024-01-01T00:00:00Z',
          config: { Entrypoint: ['/bin/app'], Cmd: ['--serve'], Env: ['PATH=/usr/bin:/bin'], Labels: { seed: `g${this.ctx.id}/${seed}` } },
          rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        }),
      ),
      docker ? MT.dockerConfig : MT.ociConfig,
    );
    return this.manifest(
      { mediaType: docker ? MT.dockerManifest : MT.ociManifest, config: desc(config), layers: layers.map(desc) },
      'image',
      attack,
    );
  }

  layer(seed: string, zip: boolean, docker: boolean): Blob {
    const tar = tarOneFile('app.bin', seededBytes(`g${this.ctx.id}/${seed}`, 600));
    const type = docker ? MT.dockerLayerGzip : zip ? MT.ociLayerGzip : MT.ociLayerTar;
    return this.blob(zip ? gzipSync(tar) : tar, type, sha256(tar));
  }

  index(
    children: readonly Node[],
    docker: boolean,
    extra: Record<string, unknown> = {},
    childExtra: Record<string, unknown> = {},
    kind: NodeKind = 'index',
    attack?: ViolationClass,
  ): Node {
    const manifests = children.map((c, i) => ({
      mediaType: c.mediaType,
      digest: c.digest,
      size: c.bytes.length,
      platform: PLATFORMS[i % PLATFORMS.length],
      ...childExtra,
    }));
    return this.manifest({ mediaType: docker ? MT.dockerList : MT.ociIndex, ...extra, manifests }, kind, attack);
  }

  /** A cosign `.sig` manifest as cosign writes it (SIGNATURE_SPEC.md): signed by K, by U, or a K signature over other bytes. */
  sign(subject: Node, signer: Signer, reference: string): Node {
    const payload = makeSimpleSigningPayload(subject.digest, reference);
    const key = signer === 'U' ? this.ctx.u : this.ctx.k;
    const signature = signPayload(key, signer === 'bad' ? Buffer.concat([payload, Buffer.from('\n')]) : payload);
    const layer = this.blob(payload, MT.simpleSigning);
    const config = this.blob(
      Buffer.from(
        JSON.stringify({
          architecture: '',
          created: '0001-01-01T00:00:00Z',
          history: [{ created: '0001-01-01T00:00:00Z' }],
          os: '',
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          config: {},
        }),
      ),
      MT.ociConfig,
    );
    const sig = this.manifest(
      {
        mediaType: MT.ociManifest,
        config: desc(config),
        layers: [{ ...desc(layer), annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature } }],
      },
      'sig',
    );
    subject.sigs.push({ signer, reference });
    this.tags.set(sigTag(subject.digest), sig.digest);
    return sig;
  }

  /** A sigstore-bundle referrer (empty config) signed by U, listed by the referrers fallback tag. */
  bundle(subject: Node): void {
    const layer = this.blob(Buffer.from(JSON.stringify(makeSigstoreBundle({ privateKey: this.ctx.u, digest: subject.digest }))), MT.bundle);
    const empty = this.blob(Buffer.from('{}'), MT.empty);
    const referrer = this.manifest(
      {
        mediaType: MT.ociManifest,
        artifactType: MT.bundle,
        config: desc(empty),
        layers: [desc(layer)],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
      },
      'bundle',
    );
    const listing = this.manifest(
      {
        mediaType: MT.ociIndex,
        manifests: [{ mediaType: MT.ociManifest, digest: referrer.digest, size: referrer.bytes.length, artifactType: MT.bundle }],
      },
      'listing',
    );
    this.tags.set(fallbackTag(subject.digest), listing.digest);
  }
}

const desc = (b: Blob): Record<string, unknown> => ({ mediaType: b.mediaType, digest: b.digest, size: b.bytes.length });

export function buildGraph(spec: GraphSpec, ctx: BuildContext): Graph {
  const b = new Builder(ctx);
  const images: Node[] = [];
  spec.images.forEach((s, i) => {
    const shared = s.share !== undefined && s.share < i ? b.blobs.get(images[s.share]!.blobs[1]!) : undefined;
    images.push(b.image(`img${i}`, s.docker, s.gzip, shared));
  });
  const indexes = spec.indexes.map((s, i) =>
    b.index([...new Set(s.children.map((c) => images[c % images.length]!))], s.docker, { annotations: { n: `idx${i}` } }),
  );
  spec.images.forEach((s, i) => s.tags.forEach((t) => b.tags.set(IMAGE_TAGS[t]!, images[i]!.digest)));
  spec.indexes.forEach((s, i) => s.tags.forEach((t) => b.tags.set(INDEX_TAGS[t]!, indexes[i]!.digest)));
  const trio = spec.exactTrio ? images[0]! : undefined;
  if (trio !== undefined) for (const tag of ['v1', 'prod']) b.tags.set(tag, trio.digest);
  let deniedLayer: string | undefined;
  if (spec.dressed) {
    const victim = b.image('dressed-child', false, [true], undefined, 'index-as-signature');
    const dressed = { artifactType: MT.cosignSigArtifact };
    b.tags.set('dressed', b.index([victim], false, dressed, dressed, 'dressed-index', 'index-as-signature').digest);
    b.tags.set('empty', b.index([], false, dressed, {}, 'dressed-index', 'index-as-signature').digest);
    deniedLayer = victim.blobs[1];
  }
  if (spec.fake !== undefined) {
    const victim = b.image('fake-victim', false, [true], undefined, 'fake-signature-blob');
    b.tags.set('victim', victim.digest);
    deniedLayer = victim.blobs[1]!;
    const layer = b.blobs.get(deniedLayer)!;
    // The victim's own runnable config, or one shaped like cosign's that names the tar.gz layer.
    const config = spec.fake.cosignShaped
      ? b.blob(
          Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} })),
          MT.ociConfig,
        )
      : b.blobs.get(victim.blobs[0]!)!;
    const fake = b.manifest(
      {
        mediaType: MT.ociManifest,
        config: { ...desc(config), mediaType: MT.ociConfig },
        layers: [{ ...desc(layer), mediaType: MT.simpleSigning }],
      },
      'fake-sig',
      'fake-signature-blob',
    );
    b.tags.set(spec.fake.atSig ? sigTag(victim.digest) : 'fake', fake.digest);
  }
  const tagsOf = (node: Node): string[] => [...b.tags].filter(([, d]) => d === node.digest).map(([t]) => t);
  const signWith = (node: Node, s: SigSpec): void => {
    const tags = tagsOf(node);
    b.sign(
      node,
      s.signer,
      s.byDigest ? `${ctx.name}@${node.digest}` : `${ctx.name}:${tags.length > 0 ? tags[s.tag % tags.length] : IMAGE_TAGS[s.tag]}`,
    );
  };
  spec.images.forEach((s, i) => {
    if (images[i] === trio) b.sign(images[i]!, 'K', `${ctx.name}:v1`);
    else if (s.sig !== undefined && !images[i]!.sigs.length) signWith(images[i]!, s.sig);
    if (s.bundle) b.bundle(images[i]!);
  });
  spec.indexes.forEach((s, i) => s.sig !== undefined && !indexes[i]!.sigs.length && signWith(indexes[i]!, s.sig));
  // Mostly an index (attack 4: its children are not covered), and one K did not sign when there is one (else the entry changes nothing).
  const unsigned = (nodes: Node[]): Node[] =>
    nodes.some((n) => !n.sigs.some((s) => s.signer === 'K')) ? nodes.filter((n) => !n.sigs.some((s) => s.signer === 'K')) : nodes;
  const targets = unsigned(
    spec.breakGlass !== undefined && spec.breakGlass % 4 !== 0 && indexes.length > 0 ? indexes : [...indexes, ...images],
  );
  const breakGlass = spec.breakGlass === undefined ? undefined : targets[spec.breakGlass % targets.length]!.digest;
  return {
    id: ctx.id,
    repo: ctx.repo,
    name: ctx.name,
    multiArch: spec.multiArch,
    identity: spec.identity,
    nodes: b.nodes,
    tags: b.tags,
    blobs: b.blobs,
    breakGlass,
    deniedLayer,
  };
}

/** What a client may ask for: every tag and manifest digest, and every blob. */
export function candidates(g: Graph): { readonly refs: readonly Ref[]; readonly blobs: readonly string[] } {
  const refs: Ref[] = [...g.tags.keys()].map((tag) => ({ kind: 'tag', tag }));
  for (const digest of g.nodes.keys()) refs.push({ kind: 'digest', digest });
  return { refs, blobs: [...g.blobs.keys()] };
}
