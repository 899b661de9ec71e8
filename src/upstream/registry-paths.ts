// Paths, scopes and caps of the upstream reads trustgate makes (distribution-spec "Endpoints").

/** docs/wire-formats.md "Traps" (Caps): manifests and referrer indexes are read whole up to 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1_048_576;

/** `/v2/<name>/<endpoint>`; the name is a validated repository name, the endpoint built by trustgate. */
export function repositoryPath(repository: string, endpoint: string): string {
  return `/v2/${repository}/${endpoint}`;
}

/** Docker token scope for reading one repository (distribution docs/spec/auth/scope.md). */
export function repositoryScope(repository: string): string {
  return `repository:${repository}:pull`;
}
