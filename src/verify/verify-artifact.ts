import { verifyCosignSignature, verifySigstoreBundle } from './cosign/index.ts';
import { verifyNotationSignature } from './notation/index.ts';
import type { SignatureFinding, SignedArtifact, Subject, TrustMaterial } from './types.ts';

/** One signature, whatever its scheme, judged against the trust material. Pure: no I/O. */
export async function verifyArtifact(
  artifact: SignedArtifact,
  subject: Subject,
  trust: TrustMaterial,
  now: number,
): Promise<SignatureFinding> {
  switch (artifact.scheme) {
    case 'cosign':
      return verifyCosignSignature(artifact, subject, trust, now);
    case 'sigstore-bundle':
      return verifySigstoreBundle(artifact, subject, trust, now);
    case 'notation':
      return verifyNotationSignature(artifact, subject, trust, now);
    default:
      return assertNever(artifact);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`unknown signature scheme ${JSON.stringify(value)}`);
}
