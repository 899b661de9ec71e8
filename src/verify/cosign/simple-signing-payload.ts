// The simple-signing payload as cosign reads it (docs/wire-formats.md "Simple-signing payload"; sigstore/sigstore
// pkg/signature/payload `SimpleContainerImage`, unmarshalled by Go's encoding/json).
import { printable } from '../../oci/reference.ts';
import { isRecord, parseJson } from './finding.ts';
import { goObject, goString } from './go-json.ts';

/** payload.CosignSignatureType */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export type ParsedPayload =
  | { readonly ok: true; readonly manifestDigest: string; readonly dockerReference?: string }
  | { readonly ok: false; readonly message: string };

const bad = (message: string): ParsedPayload => ({ ok: false, message });

export function parseSimpleSigningPayload(bytes: Buffer): ParsedPayload {
  const json = parseJson(bytes);
  if (!json.ok || !isRecord(json.value)) return bad('payload is not a JSON object');
  const critical = goObject(json.value, 'critical');
  if (!critical.ok || critical.value === undefined) return bad('payload has no critical section');
  const optional = goObject(json.value, 'optional');
  if (!optional.ok) return bad('payload optional section is not an object');

  const type = goString(critical.value, 'type');
  if (!type.ok || type.value !== COSIGN_SIGNATURE_TYPE) {
    return bad(
      `payload type is ${type.ok && type.value !== undefined ? `"${printable(type.value, 60)}"` : 'missing'}, not "${COSIGN_SIGNATURE_TYPE}"`,
    );
  }
  const image = goObject(critical.value, 'image');
  const digest = image.ok && image.value ? goString(image.value, 'docker-manifest-digest') : { ok: false as const };
  if (!digest.ok || !digest.value) return bad('payload has no critical.image.docker-manifest-digest');

  const identity = goObject(critical.value, 'identity');
  const reference = identity.ok && identity.value ? goString(identity.value, 'docker-reference') : { ok: identity.ok, value: undefined };
  if (!reference.ok) return bad('payload critical.identity.docker-reference is not a string');
  return reference.value === undefined
    ? { ok: true, manifestDigest: digest.value }
    : { ok: true, manifestDigest: digest.value, dockerReference: reference.value };
}
