// The signed `critical.identity.docker-reference` against the reference a policy expects,
// like containers/image `prmExactReference` / `prmExactRepository` (signature/policy_reference_match.go).
import { parseNormalizedNamed, referenceString } from './docker-reference.ts';

export interface ExpectedIdentity {
  /** `exact`: same name, tag and digest, and both must carry a tag or digest. `repository`: same name. */
  readonly mode: 'exact' | 'repository';
  readonly reference: string;
}

export function matchesSignedReference(signed: string | undefined, expected: ExpectedIdentity): boolean {
  if (signed === undefined) return false;
  const intended = parseNormalizedNamed(expected.reference);
  const signature = parseNormalizedNamed(signed);
  if (!intended || !signature) return false;
  if (expected.mode === 'repository') return signature.name === intended.name;
  const nameOnly = (ref: typeof intended): boolean => ref.tag === undefined && ref.digest === undefined;
  if (nameOnly(intended) || nameOnly(signature)) return false;
  return referenceString(signature) === referenceString(intended);
}
