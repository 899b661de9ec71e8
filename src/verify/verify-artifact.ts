import { verifyCosignSignature, verifySigstoreBundle } from './cosign/index.ts';
import { verifyNotationSignature } from './notation/index.ts';
import type { SignatureFinding, SignedArtifact, Subject, TrustMaterial } from './types.ts';

/**
 * One signature, whatever its scheme, judged against the trust material. Pure: no I/O. Never
 * throws: a signature no check anticipated (a library tripping over malformed ASN.1, say) is a
 * `format` finding for that signature alone, so one bad artifact cannot fail a pull's decision.
 */
export async function verifyArtifact(
  artifact: SignedArtifact,
  subject: Subject,
  trust: TrustMaterial,
  now: number,
): Promise<SignatureFinding> {
  try {
    return await verifyScheme(artifact, subject, trust, now);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    return {
      scheme: artifact.scheme,
      source: artifact.source,
      verifiedBy: [],
      failure: { kind: 'format', message: `malformed signature: ${message}` },
    };
  }
}

async function verifyScheme(artifact: SignedArtifact, subject: Subject, trust: TrustMaterial, now: number): Promise<SignatureFinding> {
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
