// The one upstream-registry reader: manifests here, small blobs in fetch-blob.ts, referrers in
// list-referrers.ts. Every failure is mapped by upstream-answer.ts and every manifest or listing
// parsed by oci/manifest.ts; nothing else in trustgate reads these from a registry.
import { TrustgateError } from '../errors/errors.ts';
import { algorithmOf, digestOf } from '../oci/digest.ts';
import { parseManifest, type ParsedManifest } from '../oci/manifest.ts';
import { bareMediaType, isIndex } from '../oci/media-types.ts';
import { isDigest, printable, referenceString, type Digest, type Reference } from '../oci/reference.ts';
import type { RequestBudget } from './budget.ts';
import { MAX_MANIFEST_BYTES, repositoryPath, repositoryScope } from './registry-paths.ts';
import type { UpstreamClient } from './types.ts';
import { upstreamError } from './upstream-answer.ts';

export { fetchSmallBlob } from './fetch-blob.ts';
export { listReferrers, type ReferrersListing } from './list-referrers.ts';
export { MAX_MANIFEST_BYTES, repositoryPath, repositoryScope } from './registry-paths.ts';

export interface ManifestRequest {
  readonly repository: string;
  readonly reference: Reference;
  /** Built by trustgate (oci/media-types.ts `upstreamAccept` or a fixed list), never the client's header as is. */
  readonly accept: string;
  /** Refused past this many bytes, before and while reading (default MAX_MANIFEST_BYTES). */
  readonly maxBytes?: number;
  /** Spent once per upstream request (discovery's per-image cap); the pull path passes none. */
  readonly budget?: RequestBudget | undefined;
}

/** A manifest as trustgate hashed and parsed it; `unsupported` when its format is refused (nothing in it is read). */
export type ManifestRead =
  | { readonly bytes: Buffer; readonly digest: Digest; readonly manifest: ParsedManifest; readonly unsupported?: undefined }
  | {
      readonly bytes: Buffer;
      readonly digest: Digest;
      readonly manifest?: undefined;
      readonly unsupported: string;
      readonly contentType: string;
    };

/** GETs a manifest: a 404 is the mapped error (MANIFEST_UNKNOWN or the registry's own NAME_UNKNOWN). */
export async function readManifest(client: UpstreamClient, request: ManifestRequest): Promise<ManifestRead> {
  return (await read(client, request, false))!;
}

/** GETs a manifest that may not exist: a 404 is undefined (a `.sig` or `.att` tag, a referrer). */
export async function findManifest(client: UpstreamClient, request: ManifestRequest): Promise<ManifestRead | undefined> {
  return read(client, request, true);
}

/** HEAD of a tag: the digest the upstream says it names now, or undefined (a hint only; the bytes are always GET and hashed). */
export async function headManifest(
  client: UpstreamClient,
  request: Omit<ManifestRequest, 'maxBytes' | 'reference'> & { readonly tag: string },
): Promise<Digest | undefined> {
  request.budget?.spend();
  const response = await client.request({
    method: 'HEAD',
    path: repositoryPath(request.repository, `manifests/${request.tag}`),
    headers: { accept: request.accept },
    scope: repositoryScope(request.repository),
    maxBytes: 0,
  });
  if (response.status !== 200) return undefined;
  const digest = response.headers['docker-content-digest'];
  return digest !== undefined && isDigest(digest) ? digest : undefined;
}

/**
 * The parse of a manifest whose descriptors trustgate will follow (signatures, attestations,
 * referrers): a refused format, or any malformed layer or child descriptor, is a bad answer.
 */
export function describedManifest(upstream: string, read: ManifestRead): ParsedManifest {
  if (read.unsupported !== undefined) throw bad(upstream, `sent a manifest trustgate does not read: ${read.unsupported}`);
  const { manifest } = read;
  const descriptors = isIndex(manifest.mediaType) ? manifest.manifests : manifest.layers;
  if (descriptors === undefined) throw bad(upstream, `sent manifest ${read.digest} with malformed descriptors`);
  return manifest;
}

/**
 * GET, hash, parse, check, in this order (docs/wire-formats.md "Digests"): the digest is computed
 * over the exact bytes with the requested digest's algorithm; a refused format is returned as such
 * before any digest check (the gate denies it, and it is never cached); an invalid manifest is a bad
 * answer; by digest the bytes must hash to it; a `Docker-Content-Digest` of the same algorithm
 * must match the bytes, and a malformed one is a mismatch too.
 */
async function read(client: UpstreamClient, request: ManifestRequest, absentOk: boolean): Promise<ManifestRead | undefined> {
  const upstream = client.config.name;
  const { reference } = request;
  request.budget?.spend();
  const response = await client.request({
    method: 'GET',
    path: repositoryPath(request.repository, `manifests/${referenceString(reference)}`),
    headers: { accept: request.accept },
    scope: repositoryScope(request.repository),
    maxBytes: request.maxBytes ?? MAX_MANIFEST_BYTES,
  });
  if (absentOk && response.status === 404) return undefined;
  if (response.status !== 200) {
    throw upstreamError(upstream, { status: response.status, body: response.body, headers: response.headers, missing: 'MANIFEST_UNKNOWN' });
  }
  const bytes = response.body;
  const contentType = response.headers['content-type'];
  const algorithm = reference.kind === 'digest' ? algorithmOf(reference.digest) : 'sha256';
  const digest = digestOf(bytes, algorithm);
  const parsed = parseManifest(bytes, contentType);
  if (!parsed.ok) {
    // It exists and is refused: a decision (denied, unsupported_manifest) like any other, never served.
    if (parsed.kind === 'schema1' || parsed.kind === 'unsupported')
      return { bytes, digest, unsupported: parsed.problem, contentType: bareMediaType(contentType) };
    throw bad(upstream, `sent an invalid manifest: ${parsed.problem}`);
  }
  if (reference.kind === 'digest' && digest !== reference.digest) {
    throw mismatch(upstream, `the manifest bytes hash to ${digest}, not the requested ${reference.digest}`);
  }
  const claimed = response.headers['docker-content-digest'];
  if (claimed !== undefined && claimed !== '' && (!isDigest(claimed) || (algorithmOf(claimed) === algorithm && claimed !== digest))) {
    throw mismatch(upstream, `the manifest bytes hash to ${digest}, but Docker-Content-Digest says ${claimed.slice(0, 80)}`);
  }
  return { bytes, digest, manifest: parsed.manifest };
}

/** `what` may quote the upstream's own text: bounded and made printable, since it can end up in a deny reason, a cache and a log. */
function bad(upstream: string, what: string): TrustgateError {
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream ${JSON.stringify(upstream)} ${printable(what, 300)}`);
}

function mismatch(upstream: string, what: string): TrustgateError {
  return new TrustgateError(
    'UPSTREAM_DIGEST_MISMATCH',
    `upstream ${JSON.stringify(upstream)} sent a manifest that fails its digest check: ${what}`,
  );
}
