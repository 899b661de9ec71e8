// The DSSE half of a bundle: signatures over PAE(payloadType, payload), then the in-toto v1
// statement cosign v3 writes for an image signature (docs/wire-formats.md "DSSE and PAE", "Sigstore bundles").
import { decodeDsseSignatures, MAX_DSSE_SIGNATURES } from './dsse.ts';
import type { SignatureFailure, SignatureFinding, Subject, TrustedKey } from '../types.ts';
import { decodeAnyBase64 } from './base64.ts';
import { IN_TOTO_PAYLOAD_TYPE, pae } from './dsse.ts';
import { failed, isRecord, noKeyVerified, parseJson, shortDigest, tryKeys } from './finding.ts';
import type { Origin } from './finding.ts';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
/** Each signature costs one verify per key; a bundle never needs more than a few. */
const MAX_SIGNATURES = MAX_DSSE_SIGNATURES;

export function verifyBundleDsse(origin: Origin, envelope: unknown, subject: Subject, keys: readonly TrustedKey[]): SignatureFinding {
  if (!isRecord(envelope)) return failed(origin, 'format', 'dsseEnvelope is not an object');
  const payloadType = envelope['payloadType'];
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return failed(origin, 'format', `DSSE payloadType is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = typeof envelope['payload'] === 'string' ? decodeAnyBase64(envelope['payload']) : undefined;
  if (payload === undefined) return failed(origin, 'format', 'DSSE payload is not base64');
  const signatures = decodeDsseSignatures(envelope['signatures']);
  if (signatures === undefined) return failed(origin, 'format', `DSSE needs 1–${MAX_SIGNATURES} base64 signatures`);

  const { verifiedBy, ed25519ph } = tryKeys(keys, pae(IN_TOTO_PAYLOAD_TYPE, payload), signatures);
  if (verifiedBy.length === 0) return noKeyVerified(origin, ed25519ph, keys.length);
  return checkStatement({ scheme: origin.scheme, source: origin.source, verifiedBy }, payload, subject);
}

/**
 * The in-toto statement cosign v3 signs for an image, read from the exact payload bytes that
 * verified (DSSE: never re-parse the envelope). `found` is the finding so far; a failure keeps it.
 */
export function checkStatement(found: SignatureFinding, payload: Buffer, subject: Subject): SignatureFinding {
  const fail = (kind: SignatureFailure, message: string): SignatureFinding => ({ ...found, failure: { kind, message } });
  const statement = parseJson(payload);
  if (!statement.ok || !isRecord(statement.value)) return fail('format', 'DSSE payload is not a JSON statement');
  const { value } = statement;
  if (value['_type'] !== STATEMENT_V1) return fail('format', `statement _type is not ${STATEMENT_V1}`);
  if (value['predicateType'] !== COSIGN_SIGN_PREDICATE) return fail('format', `predicateType is not ${COSIGN_SIGN_PREDICATE}`);
  const subjects: unknown = value['subject'];
  if (!Array.isArray(subjects) || subjects.length === 0) return fail('format', 'statement has no subjects');
  const [algorithm = '', hex = ''] = subject.digest.split(':');
  const digests = subjects.map((s: unknown) => (isRecord(s) && isRecord(s['digest']) ? s['digest'][algorithm] : undefined));
  if (!digests.includes(hex)) {
    const only = digests.length === 1 && typeof digests[0] === 'string' ? `${algorithm}:${digests[0]}` : undefined;
    const message = only
      ? `signed for ${shortDigest(only)} not ${shortDigest(subject.digest)}`
      : `none of ${subjects.length} statement subjects is ${shortDigest(subject.digest)}`;
    return fail('digest', message);
  }
  return found;
}
