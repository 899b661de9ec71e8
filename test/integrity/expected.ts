// The expected answer, from the generated graph alone (never from trustgate's caches or allow sets):
// whether a 200 for a manifest or blob is legitimate at the time of the request, whether a pull must
// be served (liveness), and which attack class an illegitimate 200 belongs to.
import {
  fullRef,
  IMAGE_CONFIG_TYPES,
  isObject,
  MT,
  parseJson,
  SIGNATURE_LAYER_TYPES,
  type Graph,
  type Node,
  type Ref,
  type ViolationClass,
} from './model.ts';

/** What changes during a run: K revoked, break-glass entries (by digest) open now and ever. */
export interface OracleState {
  readonly revoked: boolean;
  readonly bg: ReadonlySet<string>;
  readonly everBg: ReadonlySet<string>;
}

const FALLBACK_TAG = /^sha256-[0-9a-f]{64}$/;

/** K's signatures over `node` that count now: none once K is revoked. */
const kSigs = (s: OracleState, node: Node) => (s.revoked ? [] : node.sigs.filter((sig) => sig.signer === 'K'));

/** K signed `node` for the reference the client used (`exact`), or at all (`any`). */
function signedForRef(g: Graph, s: OracleState, node: Node, ref: Ref): boolean {
  return kSigs(s, node).some((sig) => g.identity === 'any' || sig.reference === fullRef(g, ref));
}

/** Some reference a client can use (a tag pointing at it, or its digest) makes `node` legitimate by K's signature. */
function signedUsably(g: Graph, s: OracleState, node: Node): boolean {
  const refs: Ref[] = [
    { kind: 'digest', digest: node.digest },
    ...[...g.tags].filter(([, d]) => d === node.digest).map(([tag]): Ref => ({ kind: 'tag', tag })),
  ];
  return refs.some((ref) => signedForRef(g, s, node, ref));
}

const parentsOf = (g: Graph, node: Node): Node[] => [...g.nodes.values()].filter((p) => p.isIndex && p.children.includes(node.digest));

/** Mode `index`: an image listed by an index that is itself legitimate by its signature (order does not matter). */
function viaIndex(g: Graph, s: OracleState, node: Node): boolean {
  return g.multiArch === 'index' && !node.isIndex && parentsOf(g, node).some((p) => signedUsably(g, s, p));
}

/**
 * A signature artifact by its own content: an image manifest with ≥1 layer, every layer of a
 * signature media type, and a config that is `{}` (OCI empty or notation) or an image config
 * naming exactly the layers (rootfs.diff_ids) and running nothing.
 */
export function isSignatureArtifact(g: Graph, node: Node): boolean {
  const doc = parseJson(node.bytes);
  if (!isObject(doc) || (doc['mediaType'] !== MT.ociManifest && doc['mediaType'] !== MT.dockerManifest)) return false;
  const layers = doc['layers'] as Array<{ mediaType?: unknown; digest?: unknown }> | undefined;
  const config = doc['config'] as { mediaType?: unknown; digest?: unknown } | undefined;
  if (!Array.isArray(layers) || layers.length === 0 || !layers.every((l) => SIGNATURE_LAYER_TYPES.has(String(l.mediaType)))) return false;
  const blob = config === undefined ? undefined : g.blobs.get(String(config.digest));
  if (blob === undefined) return false;
  if (config!.mediaType === MT.empty || config!.mediaType === MT.notation) return blob.bytes.toString() === '{}';
  if (!IMAGE_CONFIG_TYPES.has(String(config!.mediaType))) return false;
  const parsed = parseJson(blob.bytes);
  if (!isObject(parsed)) return false;
  if (Object.keys(parsed).length === 0) return true; // `{}` runs nothing and names no layers (docs/integrity.md)
  const diffIds = isObject(parsed['rootfs']) ? parsed['rootfs']['diff_ids'] : undefined;
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length || !diffIds.every((id, i) => id === layers[i]!.digest)) return false;
  const runs = isObject(parsed['config']) ? parsed['config'] : {};
  return ['Entrypoint', 'Cmd', 'Env'].every(
    (field) => runs[field] === undefined || runs[field] === null || (Array.isArray(runs[field]) && runs[field].length === 0),
  );
}

/** A 200 for manifest `node` asked for by `ref` is legitimate now. */
export function manifestLegit(g: Graph, s: OracleState, node: Node, ref: Ref): boolean {
  return (
    signedForRef(g, s, node, ref) ||
    viaIndex(g, s, node) ||
    isSignatureArtifact(g, node) ||
    (node.isIndex && ref.kind === 'tag' && FALLBACK_TAG.test(ref.tag)) ||
    s.bg.has(node.digest)
  );
}

/** An image whose config and layers may be served: by its signature, its index, or a break-glass entry naming it. */
function opensBlobs(g: Graph, s: OracleState, node: Node): boolean {
  return !node.isIndex && (signedUsably(g, s, node) || viaIndex(g, s, node) || s.bg.has(node.digest));
}

export function blobLegit(g: Graph, s: OracleState, digest: string): boolean {
  const owners = [...g.nodes.values()].filter((n) => n.blobs.includes(digest));
  if (owners.some((n) => opensBlobs(g, s, n))) return true;
  return g.blobs.get(digest)?.json === true && owners.some((n) => isSignatureArtifact(g, n));
}

/** Liveness: an image K signed for `tag`, K not revoked, pulled by that tag must be served, and then its blobs. */
export function mustServe(g: Graph, s: OracleState, node: Node, tag: string): boolean {
  return !s.revoked && node.kind === 'image' && node.sigs.some((sig) => sig.signer === 'K' && sig.reference === `${g.name}:${tag}`);
}

/** The state as it was at its most permissive: K not yet revoked, every break-glass entry ever opened still open. */
const pastOf = (s: OracleState): OracleState => ({ revoked: false, bg: s.everBg, everBg: s.everBg });
const coveredByBreakGlass = (g: Graph, s: OracleState, node: Node): boolean =>
  s.everBg.has(node.digest) || parentsOf(g, node).some((p) => s.everBg.has(p.digest));

export function classifyManifest(g: Graph, s: OracleState, node: Node, ref: Ref): ViolationClass {
  if (node.attack !== undefined) return node.attack;
  if (manifestLegit(g, pastOf(s), node, ref) || coveredByBreakGlass(g, s, node)) return 'stale-allowance';
  if (g.identity === 'exact' && signedUsably(g, s, node)) return 'verdict-key';
  return 'other';
}

export function classifyBlob(g: Graph, s: OracleState, digest: string): ViolationClass {
  const owners = [...g.nodes.values()].filter((n) => n.blobs.includes(digest));
  const attack = owners.find((n) => n.attack !== undefined)?.attack;
  if (attack !== undefined) return attack;
  if (blobLegit(g, pastOf(s), digest) || owners.some((n) => coveredByBreakGlass(g, s, n))) return 'stale-allowance';
  return 'other';
}

/** A tag of the form trustgate derives from a digest for discovery: `.sig`, `.att`, or the referrers fallback. */
export const isDerivedTag = (tag: string): boolean => /^sha256-[0-9a-f]{64}(\.sig|\.att|\.sbom)?$/.test(tag);
