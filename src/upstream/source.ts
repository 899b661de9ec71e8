import type { UpstreamConfig } from '../config/types.ts';
import { isRepositoryName, printable } from '../oci/reference.ts';

/** Where a pull goes: the upstream, the repository on it, and the canonical name every pattern matches. */
export interface Source {
  readonly upstream: UpstreamConfig;
  /** The repository on the upstream, as sent in upstream paths. */
  readonly repository: string;
  /** `<registry host>/<repository>`, e.g. `docker.io/library/nginx`. */
  readonly canonicalName: string;
  /** The name as the client wrote it in the path, for links we send back. */
  readonly clientName: string;
  /** The `ns` query the client sent, echoed as OCI-Namespace. */
  readonly ns: string | undefined;
}

export type SourceResolution = { readonly ok: true; readonly source: Source } | { readonly ok: false; readonly message: string };

/**
 * Picks the upstream for a request (docs/design.md §1 "Sources"): `ns` wins over a path prefix naming an
 * upstream, which wins over the default upstream. An `ns` naming no configured upstream never falls
 * through to the default.
 */
export function resolveSource(upstreams: readonly UpstreamConfig[], clientName: string, ns: string | undefined): SourceResolution {
  if (ns !== undefined) {
    // Registry hosts are ASCII: a non-ASCII ns could lowercase onto one (the Kelvin sign to "k") and then not fit in a header.
    if (!/^[\x21-\x7e]+$/.test(ns)) return { ok: false, message: `registry "${printable(ns)}" (from ns) is not served by this proxy` };
    const host = ns.toLowerCase();
    const upstream = upstreams.find((u) => u.namespaces.includes(host));
    if (upstream === undefined) {
      return { ok: false, message: `registry "${printable(ns)}" (from ns) is not served by this proxy` };
    }
    return { ok: true, source: sourceOf(upstream, clientName, clientName, ns) };
  }
  const slash = clientName.indexOf('/');
  if (slash > 0) {
    const prefixed = upstreams.find((u) => u.name === clientName.slice(0, slash));
    const rest = clientName.slice(slash + 1);
    if (prefixed !== undefined && isRepositoryName(rest)) {
      return { ok: true, source: sourceOf(prefixed, rest, clientName, undefined) };
    }
  }
  const fallback = upstreams.find((u) => u.isDefault);
  if (fallback === undefined) {
    return { ok: false, message: `"${printable(clientName)}" names no configured upstream and there is no default upstream` };
  }
  return { ok: true, source: sourceOf(fallback, clientName, clientName, undefined) };
}

function sourceOf(upstream: UpstreamConfig, repository: string, clientName: string, ns: string | undefined): Source {
  return { upstream, repository, canonicalName: `${upstream.registryHost}/${repository}`, clientName, ns };
}
