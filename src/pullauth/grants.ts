import type { UpstreamConfig } from '../config/types.ts';
import { isRepositoryName } from '../oci/reference.ts';
import { resolveSource } from '../upstream/source.ts';
import type { PullIdentity } from './identity.ts';
import type { PullGrant } from './pull-token.ts';
import type { ResourceScope } from './scope.ts';

/**
 * The pulls a token gets: for each requested `repository:<name>:pull`, the canonical names that
 * client name can reach which the identity's patterns allow. The name maps as a pull maps it
 * (resolveSource without `ns`), and also as it would under each upstream's `ns`, since token
 * requests never carry `ns` (containerd mirrors add it only to the pulls). Nothing else is granted:
 * no push, no other resource types, no names the identity may not pull.
 */
export function grantPulls(scopes: readonly ResourceScope[], identity: PullIdentity, upstreams: readonly UpstreamConfig[]): PullGrant[] {
  const grants = new Map<string, string[]>();
  for (const scope of scopes) {
    if (scope.type !== 'repository' || !scope.actions.includes('pull') || !isRepositoryName(scope.name)) continue;
    const allowed = canonicalNames(scope.name, upstreams).filter((canonical) => identity.patterns.some((p) => p.test(canonical)));
    if (allowed.length > 0) grants.set(scope.name, allowed);
  }
  return [...grants].map(([name, canonical]) => ({ name, canonical }));
}

export function canonicalNames(name: string, upstreams: readonly UpstreamConfig[]): string[] {
  const names = new Set<string>();
  for (const ns of [undefined, ...upstreams.map((u) => u.registryHost)]) {
    const resolved = resolveSource(upstreams, name, ns);
    if (resolved.ok) names.add(resolved.source.canonicalName);
  }
  return [...names];
}

/** Whether a verified token lets its holder pull `canonical` through the client name `name`. */
export function grantsPull(grants: readonly PullGrant[], name: string, canonical: string): boolean {
  return grants.some((g) => g.name === name && g.canonical.includes(canonical));
}
