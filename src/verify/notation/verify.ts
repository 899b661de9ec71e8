// Notary Project JWS signature verification (trust-store-trust-policy.md "Signature Verification"
// steps 3–6; docs/wire-formats.md "Notation verification steps"). Pure: the caller fetched the envelope; this never does I/O or throws.
import { flattenedVerify } from 'jose';
import type { NotationSignature, SignatureFailure, SignatureFinding, Subject, TrustMaterial } from '../types.ts';
import { keyAlgorithm } from './algorithm.ts';
import { readCertificateFacts } from './certificate-facts.ts';
import type { CertificateFacts } from './certificate-facts.ts';
import { checkCertificateRules } from './certificate-rules.ts';
import { checkChainOrder, trustedRootIds } from './chain.ts';
import { COSE_MEDIA_TYPE, JWS_MEDIA_TYPE, parseJwsEnvelope } from './envelope.ts';
import type { JwsEnvelope } from './envelope.ts';
import { attempt, fail, NotationCheckError } from './failure.ts';
import type { Attempt } from './failure.ts';
import { checkTarget, parseTargetArtifact } from './payload.ts';
import { UNDERSTOOD_CRITICAL } from './protected-header.ts';
import { parseSubjectName } from './subject-name.ts';
import { verifyTimestamp } from './timestamp.ts';
import type { VerifiedTimestamp } from './timestamp.ts';
import { checkExpiry, checkValidity, signatureNotAfter } from './validity.ts';

/**
 * One notation signature against the served manifest and the trust store's roots. Failures come
 * back as `finding.failure`; once the JWS verified, `signerSubject` (for trusted identities),
 * `verifiedBy` (when the chain is anchored and follows the rules) and `notAfter` are set even on
 * failure. Trusted identities and verification levels are policy's business (identity.ts helps).
 */
export async function verifyNotationSignature(
  sig: NotationSignature,
  subject: Subject,
  trust: TrustMaterial,
  now: number,
): Promise<SignatureFinding> {
  try {
    return await verify(sig, subject, trust, now);
  } catch (err) {
    if (err instanceof NotationCheckError) return failed(sig, err.kind, err.message);
    // Anything else is input no check anticipated; it still only means "this envelope is unusable".
    return failed(sig, 'integrity', `malformed envelope: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function verify(sig: NotationSignature, subject: Subject, trust: TrustMaterial, now: number): Promise<SignatureFinding> {
  // signature-specification.md "Storage": the layer media type picks the envelope format.
  if (sig.mediaType === COSE_MEDIA_TYPE)
    fail('unsupported_algorithm', 'COSE envelopes (application/cose) are not supported; only JWS (application/jose+json)');
  if (sig.mediaType !== JWS_MEDIA_TYPE) fail('format', `${JSON.stringify(sig.mediaType)} is not a Notary Project envelope media type`);
  const envelope = parseJwsEnvelope(sig.envelope);
  const payload = await verifyIntegrity(envelope);

  // The leaf key made this signature; everything below is about whether to believe and use it.
  const { chain, header } = envelope;
  const leaf = chain[0]!;
  const target = attempt(() => checkTarget(parseTargetArtifact(payload), subject));
  // Order first: the rules are positional (leaf, then CAs with pathLen counted from the leaf).
  const anchored = attempt(() => {
    checkChainOrder(chain);
    const facts = chain.map((cert, i) => readCertificateFacts(cert, i));
    checkCertificateRules(chain, facts);
    return { roots: trustedRootIds(chain, trust.roots), facts };
  });
  const times = anchored.ok ? checkTimes(envelope, anchored.value.facts, trust, now) : undefined;
  // trust-store-trust-policy.md order: integrity (incl. target), authenticity, expiry, timestamp.
  const failure = [target, anchored, ...(times?.checks ?? [])].find((a) => a !== undefined && !a.ok);
  const timestamp = times?.timestamp;
  const notAfter = anchored.ok ? signatureNotAfter(anchored.value.facts, header, timestamp !== undefined) : header.expiry;
  return {
    scheme: 'notation',
    source: sig.source,
    verifiedBy: anchored.ok ? anchored.value.roots : [],
    signerSubject: parseSubjectName(leaf.subject),
    ...(notAfter === undefined ? {} : { notAfter }),
    ...(timestamp ? { timestamp: { authority: timestamp.authority, at: timestamp.at } } : {}),
    ...(failure && !failure.ok ? { failure: { kind: failure.kind, message: failure.message } } : {}),
  };
}

/**
 * "Validate Expiry" against now, then "Validate Trusted Timestamp": under notary.x509 a countersignature,
 * when present, must verify against a trust-store TSA root, and the chain is then judged over its time
 * window instead of now. Under signingAuthority the authentic signing time counts and a timestamp is not read.
 * The timestamp is returned whenever it verified, even if the chain was not valid at its time.
 */
function checkTimes(
  { header, chain, signature, timestampSignature }: JwsEnvelope,
  facts: readonly CertificateFacts[],
  trust: TrustMaterial,
  now: number,
): { checks: Attempt<unknown>[]; timestamp?: VerifiedTimestamp } {
  const expiry = attempt(() => checkExpiry(header, now));
  // With no `tsa` root in the trust store a timestamp cannot be judged: it is set aside and the
  // chain is checked now, as before timestamps were supported (a signature never gains from it).
  const stamped =
    header.scheme === 'notary.x509' && timestampSignature !== undefined && trust.tsaRoots.length > 0
      ? attempt(() => verifyTimestamp(timestampSignature, signature, trust.tsaRoots, now))
      : undefined;
  const timestamp = stamped?.ok ? stamped.value : undefined;
  const validity = attempt(() => checkValidity(chain, facts, header, now, timestamp));
  return { checks: [expiry, ...(stamped ? [stamped] : []), validity], ...(timestamp ? { timestamp } : {}) };
}

/** trust-store-trust-policy.md "Validate Integrity": alg from the leaf key, then the JWS itself. */
async function verifyIntegrity({ jws, header, chain }: JwsEnvelope): Promise<Uint8Array> {
  const leaf = chain[0]!;
  const expected = keyAlgorithm(leaf.publicKey);
  if (!expected.alg) fail('integrity', `the signing certificate's ${expected.description} key has no Notary Project algorithm`);
  if (expected.alg !== header.alg)
    fail('integrity', `alg ${header.alg} does not match the signing certificate's ${expected.description} key (${expected.alg})`);
  const crit = Object.fromEntries(UNDERSTOOD_CRITICAL.map((name) => [name, true]));
  try {
    // PS* verify with salt length = hash length, as notation signs (docs/wire-formats.md "node:crypto and jose notes").
    const result = await flattenedVerify(jws, leaf.publicKey, { algorithms: [expected.alg], crit });
    return result.payload;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') fail('integrity', "signature does not verify with the signing certificate's key");
    fail('integrity', `JWS rejected: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function failed(sig: NotationSignature, kind: SignatureFailure, message: string): SignatureFinding {
  return { scheme: 'notation', source: sig.source, verifiedBy: [], failure: { kind, message } };
}
