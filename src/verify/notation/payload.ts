// The signed payload's targetArtifact against the manifest being served (signature-specification.md
// "Payload"; docs/wire-formats.md "Notation payload"; notation-go notation.go compares digest, size and mediaType).
import type { Subject } from '../types.ts';
import { isPlainObject, parseJsonObject } from './encoding.ts';
import { fail } from './failure.ts';

export interface TargetArtifact {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** Parse only after the signature verified (signature-specification.md "Signed Attributes"). */
export function parseTargetArtifact(payload: Uint8Array): TargetArtifact {
  const target = parseJsonObject(payload, 'payload').targetArtifact;
  if (!isPlainObject(target)) fail('integrity', 'payload has no targetArtifact descriptor');
  const { mediaType, digest, size } = target;
  if (typeof mediaType !== 'string' || mediaType === '') fail('integrity', 'targetArtifact.mediaType is missing');
  if (typeof digest !== 'string' || digest === '') fail('integrity', 'targetArtifact.digest is missing');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    fail('integrity', 'targetArtifact.size is not a non-negative integer');
  return { mediaType, digest, size };
}

/**
 * notation-go fails all three with one "descriptor mismatch" error. trustgate splits them: another
 * digest means the signature is for another manifest (`digest`, as for cosign); the same digest with
 * another size or media type is a self-contradictory descriptor (`integrity`).
 */
export function checkTarget(target: TargetArtifact, subject: Subject): void {
  if (target.digest !== subject.digest) fail('digest', `signature is for ${target.digest}, not ${subject.digest}`);
  if (target.size !== subject.size)
    fail('integrity', `targetArtifact size ${target.size} differs from the manifest's ${subject.size} bytes`);
  // docs/wire-formats.md "Notation payload": the media type must match when the served one is known.
  if (subject.mediaType !== '' && target.mediaType !== subject.mediaType) {
    fail('integrity', `targetArtifact mediaType ${target.mediaType} differs from the manifest's ${subject.mediaType}`);
  }
}
