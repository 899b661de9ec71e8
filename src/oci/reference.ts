// Grammar from the OCI distribution spec, "Pulling manifests" (name and tag regexes),
// and the digest grammar of the OCI image spec, descriptor.md "Digests".
import { TrustgateError } from '../errors/errors.ts';

const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const DIGEST_SHAPE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** distribution/reference NameTotalLengthMax. */
export const NAME_MAX_LENGTH = 255;

export type Digest = `sha256:${string}` | `sha512:${string}`;

export type Reference = { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'digest'; readonly digest: Digest };

export function isRepositoryName(value: string): boolean {
  return value.length <= NAME_MAX_LENGTH && NAME.test(value);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function isDigest(value: string): value is Digest {
  return DIGEST.test(value);
}

export function parseRepositoryName(value: string): string {
  if (!isRepositoryName(value)) {
    throw new TrustgateError('NAME_INVALID', `invalid repository name "${printable(value)}"`);
  }
  return value;
}

export function parseDigest(value: string): Digest {
  if (isDigest(value)) return value;
  const why = DIGEST_SHAPE.test(value) ? 'unsupported algorithm or bad encoding (sha256 or sha512, lowercase hex)' : 'not a digest';
  throw new TrustgateError('DIGEST_INVALID', `invalid digest "${printable(value)}": ${why}`);
}

/** A manifest reference is a tag or a digest; anything else is refused before it goes upstream. */
export function parseReference(value: string): Reference {
  if (value.includes(':')) return { kind: 'digest', digest: parseDigest(value) };
  if (isTag(value)) return { kind: 'tag', tag: value };
  throw new TrustgateError('MANIFEST_INVALID', `invalid tag "${printable(value)}"`);
}

export function referenceString(ref: Reference): string {
  return ref.kind === 'tag' ? ref.tag : ref.digest;
}

/** Keeps hostile input out of messages and logs: bounded, printable ASCII only. */
export function printable(value: string, max = 80): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
