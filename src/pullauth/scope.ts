/** One requested resource scope (distribution docs/spec/auth/scope.md). */
export interface ResourceScope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export class ScopeError extends Error {
  override readonly name = 'ScopeError';
}

/** Limits on what one token request may ask for; past them the request is refused, not trimmed. */
export const MAX_SCOPES = 64;
const MAX_SCOPE_LENGTH = 512;

// resourcescope := resourcetype ":" resourcename ":" action [ "," action ]*
// resourcetype  := /[a-z0-9]+/ [ "(" /[a-z0-9]+/ ")" ]; the name may hold a "host:port", so it is
// everything between the type's colon and the last colon (actions never contain one).
const RESOURCE_SCOPE = /^([a-z0-9]+)(\([a-z0-9]+\))?:([\x21-\x7e]+):([a-z*]*(?:,[a-z*]*)*)$/;

/**
 * Parses the `scope` query parameters of a token request: repeatable, each one or more
 * space-separated resource scopes. Entries that do not fit the grammar, and resource classes
 * (`repository(plugin)`), are dropped: a token only ever lacks what was asked for wrongly. Throws
 * ScopeError only when the request is too big to consider.
 */
export function parseScopes(raw: unknown): ResourceScope[] {
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const entries: string[] = [];
  for (const value of values) {
    if (typeof value !== 'string') throw new ScopeError('"scope" must be text');
    for (const entry of value.split(' ')) {
      if (entry === '') continue;
      if (entry.length > MAX_SCOPE_LENGTH) throw new ScopeError(`a scope is longer than ${MAX_SCOPE_LENGTH} characters`);
      entries.push(entry);
      if (entries.length > MAX_SCOPES) throw new ScopeError(`more than ${MAX_SCOPES} scopes requested`);
    }
  }
  const scopes: ResourceScope[] = [];
  for (const entry of entries) {
    const match = RESOURCE_SCOPE.exec(entry);
    if (match === null || match[2] !== undefined) continue;
    const actions = [...new Set(match[4]!.split(',').filter((a) => a !== ''))];
    if (actions.length === 0) continue; // asks for nothing
    scopes.push({ type: match[1]!, name: match[3]!, actions });
  }
  return scopes;
}

/** The scope a client needs to pull a repository, as a challenge names it. */
export function pullScope(name: string): string {
  return `repository:${name}:pull`;
}
