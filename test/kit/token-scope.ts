// Helpers shared by the token issuer and tests: scope parsing
// (distribution docs/spec/auth/scope.md) and libtrust key IDs (the `kid`
// form distribution v2.8 matches against its rootcertbundle keys).
import { createHash } from 'node:crypto';

/** One entry of the JWT `access` claim. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** libtrust KeyID: base32(sha256(SPKI DER)[:30]) in 12 colon-separated groups of 4. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  const b32 = bits
    .match(/.{5}/g)!
    .map((c) => alphabet[parseInt(c, 2)])
    .join('');
  return b32.match(/.{4}/g)!.join(':');
}

/** Parses `type[(class)]:name:actions` (the name may itself contain ':'). */
export function parseScope(scope: string): Access | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return null;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type, name: scope.slice(first + 1, last), actions };
}
