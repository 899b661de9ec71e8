import type { UpstreamConfig } from '../config/types.ts';
import { isRepositoryName } from '../oci/reference.ts';
import type { ScanRequest } from '../scan-store/types.ts';

/** What to scan for one request, and what to file the report under. */
export interface ScanTarget {
  /** `<upstream url host>/<repository>@<digest>`: the image straight from the upstream, never through trustgate. */
  readonly reference: string;
  /** The upstream speaks plain HTTP (trivy's --insecure). */
  readonly insecure: boolean;
  /** `<registry host>/<repository>@<digest>`, the admin API's `image`. */
  readonly image: string;
}

export type TargetResult = { readonly ok: true; readonly target: ScanTarget } | { readonly ok: false; readonly problem: string };

/**
 * Maps a queued request to the upstream image: the request's `upstream` names a configured
 * upstream, whose URL says where the repository really lives (its registryHost may be another
 * name, e.g. docker.io for https://registry-1.docker.io).
 */
export function scanTarget(request: ScanRequest, upstreams: readonly UpstreamConfig[]): TargetResult {
  const upstream = upstreams.find((u) => u.name === request.upstream);
  if (upstream === undefined) return { ok: false, problem: `upstream "${request.upstream}" is not in this worker's config` };
  const prefix = `${upstream.registryHost}/`;
  const repository = request.canonicalName.startsWith(prefix) ? request.canonicalName.slice(prefix.length) : '';
  if (!isRepositoryName(repository)) {
    return {
      ok: false,
      problem: `"${request.canonicalName}" is not a repository of upstream "${upstream.name}" (${upstream.registryHost})`,
    };
  }
  const url = new URL(upstream.url);
  if (url.pathname !== '/' && url.pathname !== '') {
    return {
      ok: false,
      problem: `upstream "${upstream.name}" is served under a path (${url.pathname}); trivy can only pull from a registry at the root of its host`,
    };
  }
  return {
    ok: true,
    target: {
      reference: `${registryHostOf(url)}/${repository}@${request.digest}`,
      insecure: url.protocol === 'http:',
      image: `${request.canonicalName}@${request.digest}`,
    },
  };
}

/**
 * The URL's host as an image reference needs it. A first component with no dot, no port and not
 * `localhost` would be read as a Docker Hub namespace, so such a host gets its port spelled out.
 */
function registryHostOf(url: URL): string {
  if (url.port !== '' || url.hostname.includes('.') || url.hostname.includes(':') || url.hostname === 'localhost') return url.host;
  return `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}`;
}
