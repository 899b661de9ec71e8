import type { UpstreamConfig } from '../config/types.ts';
import type { AuthorizePull } from '../pullauth/middleware.ts';
import type { ClientIdentity, Decision } from '../decision/decision.ts';
import { checkSource, denySource } from '../gate/source-check.ts';
import type { PullContext } from '../gate/types.ts';
import type { Reference } from '../oci/reference.ts';
import { resolveSource, type Source } from '../upstream/source.ts';
import { fetchManifest, type ManifestFetchOptions } from './manifest-fetch.ts';
import type { VerifiedManifest } from './manifest-cache.ts';

/** Where a request stands once its source is known, before anything has gone upstream. */
export type Admission =
  | { readonly ok: true; readonly source: Source }
  | { readonly ok: false; readonly decision: Decision; readonly name: string; readonly upstream: string | undefined };

/**
 * The first steps of every `/v2` request with a name, and of explain (docs/architecture.md "One
 * pull pipeline"): resolve the source once, hand it to pull auth, then check the allowlist.
 * Nothing goes upstream before all three pass.
 */
export async function admit(
  upstreams: readonly UpstreamConfig[],
  name: string,
  ns: string | undefined,
  authorize: AuthorizePull | undefined,
): Promise<Admission> {
  const resolution = resolveSource(upstreams, name, ns);
  const refused = authorize === undefined ? undefined : await authorize(resolution);
  if (!resolution.ok) return { ok: false, decision: refused ?? denySource(resolution.message), name, upstream: undefined };
  const { source } = resolution;
  const denied = refused ?? checkSource(source);
  if (denied !== undefined) return { ok: false, decision: denied, name: source.canonicalName, upstream: source.upstream.name };
  return { ok: true, source };
}

export type PreparedPull =
  | { readonly ok: true; readonly source: Source; readonly manifest: VerifiedManifest; readonly context: PullContext }
  | Extract<Admission, { ok: false }>;

export interface PullRequest {
  readonly name: string;
  readonly ns: string | undefined;
  readonly reference: Reference;
  /** The client's Accept header, narrowed to what trustgate can verify. */
  readonly accept: string | undefined;
  readonly client: ClientIdentity | undefined;
}

/** One manifest pull made ready for the gate: admitted, fetched and hashed, and its context built. */
export async function preparePull(
  request: PullRequest,
  upstreams: readonly UpstreamConfig[],
  authorize: AuthorizePull | undefined,
  fetchOptionsFor: (upstream: string) => ManifestFetchOptions,
  admitted: (source: Source) => void = () => {},
): Promise<PreparedPull> {
  const admission = await admit(upstreams, request.name, request.ns, authorize);
  if (!admission.ok) return admission;
  const { source } = admission;
  admitted(source);
  const manifest = await fetchManifest(source, request.reference, request.accept, fetchOptionsFor(source.upstream.name));
  return { ok: true, source, manifest, context: pullContext(source, request.reference, manifest, request.client) };
}

export function pullContext(
  source: Source,
  reference: Reference,
  manifest: VerifiedManifest,
  client: ClientIdentity | undefined,
): PullContext {
  return {
    canonicalName: source.canonicalName,
    repository: source.repository,
    upstream: source.upstream,
    requested: reference,
    ns: source.ns,
    manifest: {
      bytes: manifest.bytes,
      digest: manifest.digest,
      mediaType: manifest.parsed.mediaType,
      children: manifest.parsed.children,
      blobs: manifest.parsed.blobs,
      parsed: manifest.parsed,
      unsupported: manifest.unsupported,
    },
    parentIndex: undefined,
    client,
    ...(manifest.static === true ? { failStatic: true } : {}),
  };
}
