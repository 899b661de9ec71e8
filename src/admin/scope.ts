import { TrustgateError } from '../errors/errors.ts';
import { compilePattern } from '../oci/pattern.ts';
import { scopeOf, type AdminIdentity, type Role } from './tokens.ts';

/** The literal text before a pattern's first wildcard. */
const literalPrefix = (source: string): string => {
  const star = source.indexOf('*');
  return star < 0 ? source : source.slice(0, star);
};

/**
 * Whether every name the pattern `scope` matches is matched by `pattern`, decided conservatively
 * (false when unsure): `pattern` matches `scope` read as a literal string, and also its variants
 * with each `**` widened across a slash (`*`, `/`, `*`) and narrowed to nothing (so a single `*` in
 * `pattern` never stands for a `**`); and `scope`'s literal prefix starts with `pattern`'s.
 */
export function scopeWithin(scope: string, pattern: string): boolean {
  let compiled;
  try {
    compiled = compilePattern(pattern);
    compilePattern(scope);
  } catch {
    return false;
  }
  if (!literalPrefix(scope).startsWith(literalPrefix(pattern))) return false;
  const variants = [scope, scope.replace(/\*\*/g, '*/*'), scope.replace(/\/\*\*\//g, '/').replace(/\*\*/g, '')];
  return variants.every((v) => compiled.test(v));
}

/**
 * For a role held with repository scopes: 403 unless every one of `scopes` lies within one of the
 * identity's patterns for `role`. Unscoped roles (and admin) pass.
 */
export function requireWithin(identity: AdminIdentity, role: Role, scopes: readonly string[], what: string): void {
  const patterns = scopeOf(identity, role);
  if (patterns === undefined) return;
  const outside = scopes.find((s) => !patterns.some((p) => scopeWithin(s, p)));
  if (outside !== undefined) {
    throw new TrustgateError('DENIED', `${what} "${outside}" is outside this ${role}'s repository scope (${patterns.join(', ')})`);
  }
}

/** For a role held with repository scopes: 403 with `message`. */
export function requireUnscoped(identity: AdminIdentity, role: Role, message: string): void {
  if (scopeOf(identity, role) !== undefined) throw new TrustgateError('DENIED', message);
}

/**
 * What a read shows a caller whose reading roles are all repository-scoped: a test over canonical
 * names (any of their patterns), or undefined when they hold one of `roles` unscoped (or admin) and
 * see everything. Used by the overview and the decision feed, which list images.
 */
export function visibleTo(identity: AdminIdentity, roles: readonly Role[]): ((name: string) => boolean) | undefined {
  if (identity.roles.includes('admin')) return undefined;
  const patterns: string[] = [];
  for (const role of roles) {
    if (!identity.roles.includes(role)) continue;
    const scoped = scopeOf(identity, role);
    if (scoped === undefined) return undefined;
    patterns.push(...scoped);
  }
  const compiled = patterns.flatMap((p) => {
    try {
      return [compilePattern(p)];
    } catch {
      return [];
    }
  });
  return (name) => compiled.some((p) => p.test(name));
}

/** Whether a break-glass image (a pattern, or `<name>@<digest>`) lies within what `visible`'s caller may see. */
export function imageVisible(image: string, identity: AdminIdentity, roles: readonly Role[]): boolean {
  if (visibleTo(identity, roles) === undefined) return true;
  const name = image.includes('@') ? image.slice(0, image.indexOf('@')) : image;
  const patterns = roles.flatMap((role) => scopeOf(identity, role) ?? []);
  return patterns.some((p) => scopeWithin(name, p));
}
