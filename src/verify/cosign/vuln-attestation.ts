// One `.att` layer holding a cosign vulnerability attestation: a DSSE envelope (dsse envelope.md,
// protocol.md) over an in-toto statement (v0.1 or v1) whose predicate is cosign's vuln/v1
// (cosign specs/COSIGN_VULN_ATTESTATION_SPEC.md, pkg/cosign/attestation CosignVulnPredicate; docs/wire-formats.md "Vulnerability attestations").
// Which verified keys may vouch for scans is policy's business; every key that verified is returned.
import { decodeDsseSignatures, MAX_DSSE_SIGNATURES } from './dsse.ts';
import type { Digest } from '../../oci/reference.ts';
import { ScanReportError } from '../../scan/errors.ts';
import type { ScanRecord } from '../../scan/types.ts';
import type { TrustedKey } from '../types.ts';
import { decodeAnyBase64 } from './base64.ts';
import { IN_TOTO_PAYLOAD_TYPE, pae } from './dsse.ts';
import { isRecord, parseJson, shortDigest, tryKeys } from './finding.ts';
import { vulnPredicateRecord } from '../../scan/vuln-predicate.ts';

export const VULN_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
/** cosign's legacy `attest` writes v0.1 (docs/wire-formats.md "Vulnerability attestations"); bundles write v1. */
export const STATEMENT_TYPES: readonly string[] = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];
/** A full Trivy result can run to megabytes; anything past this is not a scan we read. */
export const MAX_ENVELOPE_BYTES = 32 * 1024 * 1024;
const MAX_SIGNATURES = MAX_DSSE_SIGNATURES;

export type VulnAttestationFailure = { readonly kind: 'format' | 'crypto' | 'digest'; readonly message: string };

export interface VulnAttestationResult {
  readonly source: string;
  /** Trust-store ids whose key verified the DSSE signature; set even when a later check fails. */
  readonly verifiedBy: string[];
  /** Set when the attestation verified and describes this digest. */
  readonly record?: ScanRecord;
  readonly failure?: VulnAttestationFailure;
}

export function verifyVulnAttestation(
  input: { readonly envelope: Buffer; readonly source: string },
  subject: { readonly digest: Digest },
  keys: readonly TrustedKey[],
  now: number,
): VulnAttestationResult {
  const { source } = input;
  const fail = (kind: VulnAttestationFailure['kind'], message: string, verifiedBy: string[] = []): VulnAttestationResult => ({
    source,
    verifiedBy,
    failure: { kind, message },
  });
  if (input.envelope.length > MAX_ENVELOPE_BYTES)
    return fail('format', `DSSE envelope is ${input.envelope.length} bytes; the limit is ${MAX_ENVELOPE_BYTES}`);
  const envelope = parseJson(input.envelope);
  if (!envelope.ok || !isRecord(envelope.value)) return fail('format', 'DSSE envelope is not a JSON object');
  const { payloadType } = envelope.value;
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return fail('format', `DSSE payloadType is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = typeof envelope.value['payload'] === 'string' ? decodeAnyBase64(envelope.value['payload']) : undefined;
  if (payload === undefined) return fail('format', 'DSSE payload is not base64');
  const signatures = decodeDsseSignatures(envelope.value['signatures']);
  if (signatures === undefined) return fail('format', `DSSE needs 1–${MAX_SIGNATURES} base64 signatures`);

  // DSSE protocol.md: the signature covers PAE(payloadType, payload), never the payload alone.
  const { verifiedBy: ids, ed25519ph } = tryKeys(keys, pae(IN_TOTO_PAYLOAD_TYPE, payload), signatures);
  const verifiedBy = [...ids];
  if (verifiedBy.length === 0) {
    if (ed25519ph) return fail('crypto', 'Ed25519ph signature (cosign ≥ 2.6 default for Ed25519 keys) is not supported');
    return fail(
      'crypto',
      keys.length === 0
        ? 'signature not checked: no trusted keys are configured'
        : `signature does not verify with ${keys.length === 1 ? 'the trusted key' : `any of ${keys.length} trusted keys`}`,
    );
  }

  // Only the exact payload bytes that verified are parsed (DSSE: never re-parse the envelope).
  const statement = parseJson(payload);
  if (!statement.ok || !isRecord(statement.value)) return fail('format', 'DSSE payload is not a JSON statement', verifiedBy);
  const { value } = statement;
  if (typeof value['_type'] !== 'string' || !STATEMENT_TYPES.includes(value['_type'])) {
    return fail('format', `statement _type is not ${STATEMENT_TYPES.join(' or ')}`, verifiedBy);
  }
  if (value['predicateType'] !== VULN_PREDICATE_TYPE) return fail('format', `predicateType is not ${VULN_PREDICATE_TYPE}`, verifiedBy);
  const mismatch = subjectMismatch(value['subject'], subject.digest);
  if (mismatch !== undefined) return fail(mismatch.kind, mismatch.message, verifiedBy);

  try {
    return { source, verifiedBy, record: vulnPredicateRecord(value['predicate'], subject.digest, now) };
  } catch (error) {
    if (error instanceof ScanReportError) return fail('format', `${error.field} ${error.problem}`, verifiedBy);
    throw error;
  }
}

// in-toto: subjects match only by digest; cosign's IntotoSubjectClaimVerifier passes if any does.
function subjectMismatch(subjects: unknown, digest: Digest): VulnAttestationFailure | undefined {
  if (!Array.isArray(subjects) || subjects.length === 0) return { kind: 'format', message: 'statement has no subjects' };
  const [algorithm = '', hex = ''] = digest.split(':');
  const digests = subjects.map((s: unknown) => (isRecord(s) && isRecord(s['digest']) ? s['digest'][algorithm] : undefined));
  if (digests.includes(hex)) return undefined;
  const only = digests.length === 1 && typeof digests[0] === 'string' ? `${algorithm}:${digests[0]}` : undefined;
  return {
    kind: 'digest',
    message: only
      ? `attests ${shortDigest(only)} not ${shortDigest(digest)}`
      : `none of ${subjects.length} statement subjects is ${shortDigest(digest)}`,
  };
}
