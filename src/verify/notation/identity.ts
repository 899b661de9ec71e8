// Trust-policy trusted identities (trust-store-trust-policy.md "Trusted Identities Constraints";
// docs/wire-formats.md "Notation verification steps"): `*`, or `x509.subject: C=US, ST=WA, O=…` matched as a subset of the leaf subject.
import { decode, split, splitAttribute, tokenize } from './dn-text.ts';

export type TrustedIdentity =
  { readonly kind: 'any' } | { readonly kind: 'x509.subject'; readonly attributes: Readonly<Record<string, string>> };

const PREFIX = 'x509.subject:';
const REQUIRED = ['C', 'ST', 'O'] as const;
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;

/**
 * Validates one entry, for config checks; throws TypeError naming the problem. Attribute types are
 * case-insensitive and `S` means `ST`; values are exact. `,` or `;` separate RDNs (as in go-ldap,
 * which notation-go uses), so a value escapes them as `\,` `\;`, and `\\`, `\ ` at its edges, `\HH`.
 */
export function parseTrustedIdentity(identity: string): TrustedIdentity {
  const bad = (why: string): never => {
    throw new TypeError(`trusted identity ${JSON.stringify(identity)} ${why}`);
  };
  if (typeof identity !== 'string') throw new TypeError('a trusted identity must be a string');
  if (identity.trim() === '*') return { kind: 'any' };
  const text = identity.trimStart(); // not trimEnd: a value may end in an escaped space (`\ `)
  if (!text.startsWith(PREFIX)) bad(`must be "*" or start with "${PREFIX}"`);
  const attributes: Record<string, string> = {};
  for (const rdn of split(
    tokenize(text.slice(PREFIX.length), (why) => bad(why)),
    ',;',
  )) {
    const attr = splitAttribute(rdn);
    if (!attr) bad(decode(rdn).trim() === '' ? 'has an empty RDN' : `has an RDN without "=": ${JSON.stringify(decode(rdn).trim())}`);
    const { type, value } = attr!;
    // notation-go (pkix.ParseDistinguishedName) refuses multi-valued RDNs too.
    if (split(value, '+').length > 1 || type.includes('+')) bad('has a multi-valued RDN (unescaped "+"), which is not supported');
    if (!ATTRIBUTE_TYPE.test(type)) bad(`has an invalid attribute type ${JSON.stringify(type)}`);
    const key = canonicalType(type);
    if (key in attributes) bad(`lists ${key} twice`);
    const decoded = decode(value);
    if (decoded === '') bad(`has an empty value for ${key}`);
    attributes[key] = decoded;
  }
  const missing = REQUIRED.filter((k) => !(k in attributes));
  if (missing.length > 0) bad(`must include C, ST (or S) and O; missing ${missing.join(', ')}`);
  return { kind: 'x509.subject', attributes };
}

/**
 * Whether a leaf subject (`SignatureFinding.signerSubject`) satisfies one trust-policy entry: `*`, or
 * every listed attribute present with the same value. Never throws: a malformed entry matches nothing.
 */
export function matchesTrustedIdentity(subject: Readonly<Record<string, string>>, identity: string | TrustedIdentity): boolean {
  let parsed: TrustedIdentity;
  try {
    parsed = typeof identity === 'string' ? parseTrustedIdentity(identity) : identity;
  } catch {
    return false;
  }
  if (parsed.kind === 'any') return true;
  const leaf = new Map(Object.entries(subject).map(([type, value]) => [canonicalType(type), value]));
  return Object.entries(parsed.attributes).every(([type, value]) => leaf.get(type) === value);
}

/**
 * Validates a whole `trustedIdentities` list: `*` must stand alone, and no entry may be a subset of
 * another (the overlap check notation-go applies; the spec's wider definition would also reject
 * entries that merely could both match one certificate).
 */
export function parseTrustedIdentities(identities: readonly string[]): TrustedIdentity[] {
  const parsed = identities.map(parseTrustedIdentity);
  if (parsed.some((p) => p.kind === 'any') && parsed.length > 1) throw new TypeError('trusted identity "*" must be the only entry');
  parsed.forEach((a, i) =>
    parsed.forEach((b, j) => {
      if (
        i < j &&
        a.kind === 'x509.subject' &&
        b.kind === 'x509.subject' &&
        (isSubset(a.attributes, b.attributes) || isSubset(b.attributes, a.attributes))
      ) {
        throw new TypeError(`trusted identities ${JSON.stringify(identities[i])} and ${JSON.stringify(identities[j])} overlap`);
      }
    }),
  );
  return parsed;
}

function isSubset(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === v);
}

function canonicalType(type: string): string {
  const upper = type.toUpperCase();
  return upper === 'S' ? 'ST' : upper;
}
