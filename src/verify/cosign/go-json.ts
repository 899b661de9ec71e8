// Reading a JSON object the way Go's encoding/json fills a struct: field names match
// case-insensitively (bytes.EqualFold, so U+017F ſ ~ s and U+212A K ~ k), and a wrong-typed
// value is an unmarshal error. cosign parses the simple-signing payload like this (docs/wire-formats.md "Simple-signing payload").
import { isRecord } from './finding.ts';

export type Field = { readonly found: false } | { readonly found: true; readonly value: unknown } | { readonly found: 'ambiguous' };

const fold = (name: string): string =>
  name
    .replace(/[A-Z]/g, (c) => c.toLowerCase())
    .replace(/\u017f/g, 's')
    .replace(/\u212a/g, 'k');

/**
 * `name` must be lowercase ASCII. Go lets the last of several matching keys win; keys that
 * match the same field with different values are refused here instead (a signer never writes them).
 */
export function goField(object: Readonly<Record<string, unknown>>, name: string): Field {
  let found: Field = { found: false };
  for (const [key, value] of Object.entries(object)) {
    if (fold(key) !== name) continue;
    if (found.found === true && !sameJson(found.value, value)) return { found: 'ambiguous' };
    found = { found: true, value };
  }
  return found;
}

/** Values nested deeper than the stack cannot be compared (JSON.stringify throws a RangeError): they count as different. */
function sameJson(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

export type GoRead<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/** A struct-typed field: absent or null is the zero value (undefined), an object is read, anything else is an error. */
export function goObject(object: Readonly<Record<string, unknown>>, name: string): GoRead<Record<string, unknown> | undefined> {
  const field = goField(object, name);
  if (field.found === 'ambiguous') return { ok: false };
  if (!field.found || field.value === null) return { ok: true, value: undefined };
  return isRecord(field.value) ? { ok: true, value: field.value } : { ok: false };
}

/** A string field: absent or null is the zero value (undefined), a string is read, anything else is an error. */
export function goString(object: Readonly<Record<string, unknown>>, name: string): GoRead<string | undefined> {
  const field = goField(object, name);
  if (field.found === 'ambiguous') return { ok: false };
  if (!field.found || field.value === null) return { ok: true, value: undefined };
  return typeof field.value === 'string' ? { ok: true, value: field.value } : { ok: false };
}
