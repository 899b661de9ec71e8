// Strict parsing of a Notary Project JWS envelope: JSON flattened serialization, one signature,
// exactly four members (signature-envelope-jws.md "Signature Envelope"; docs/wire-formats.md "JWS envelope").
import { X509Certificate } from 'node:crypto';
import { decodeBase64Std, decodeBase64Url, isPlainObject, parseJsonObject } from './encoding.ts';
import { fail } from './failure.ts';
import { parseProtectedHeader } from './protected-header.ts';
import type { ProtectedHeader } from './protected-header.ts';

/** The unprotected header member carrying an RFC 3161 TimeStampToken (signature-envelope-jws.md "Unprotected Headers"). */
export const TIMESTAMP_HEADER = 'io.cncf.notary.timestampSignature';

export const JWS_MEDIA_TYPE = 'application/jose+json';
export const COSE_MEDIA_TYPE = 'application/cose';

/** Real envelopes are a few KB (a short chain); anything near this is not one. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;
export const MAX_CHAIN_LENGTH = 10;

const MEMBERS = ['header', 'payload', 'protected', 'signature'];

/** The JWS as jose expects it: the four members exactly as received. */
export interface FlattenedJws {
  readonly payload: string;
  readonly protected: string;
  readonly header: Record<string, unknown>;
  readonly signature: string;
}

export interface JwsEnvelope {
  readonly jws: FlattenedJws;
  readonly header: ProtectedHeader;
  /** x5c, leaf first; each entry's DER is exactly what was encoded. */
  readonly chain: readonly X509Certificate[];
  /** The JWS signature bytes: what an RFC 3161 countersignature's messageImprint hashes. */
  readonly signature: Buffer;
  /** header `io.cncf.notary.timestampSignature` as received, when present; timestamp.ts decodes and verifies it. */
  readonly timestampSignature?: unknown;
}

export function parseJwsEnvelope(bytes: Buffer): JwsEnvelope {
  if (bytes.length > MAX_ENVELOPE_BYTES) fail('integrity', `envelope is ${bytes.length} bytes, over the ${MAX_ENVELOPE_BYTES}-byte limit`);
  const top = parseJsonObject(bytes, 'envelope');
  const members = Object.keys(top).sort();
  if (members.join() !== MEMBERS.join()) {
    fail('integrity', `envelope members must be exactly ${MEMBERS.join(', ')}; got ${members.join(', ') || 'none'}`);
  }
  const { payload, protected: protectedB64, header, signature } = top;
  decodeBase64Url(payload, 'payload');
  const signatureBytes = decodeBase64Url(signature, 'signature');
  const protectedHeader = parseJsonObject(decodeBase64Url(protectedB64, 'protected header'), 'protected header');
  if (!isPlainObject(header)) fail('integrity', 'header must be a JSON object');
  // io.cncf.notary.timestampSignature (an RFC 3161 countersignature) is verified by timestamp.ts under
  // notary.x509 (trust-store-trust-policy.md "Validate Trusted Timestamp"). io.cncf.notary.signingAgent is
  // informational and never checked.
  return {
    jws: { payload: payload as string, protected: protectedB64 as string, header, signature: signature as string },
    header: parseProtectedHeader(protectedHeader),
    chain: parseX5c(header.x5c),
    signature: signatureBytes,
    ...(Object.hasOwn(header, TIMESTAMP_HEADER) ? { timestampSignature: header[TIMESTAMP_HEADER] } : {}),
  };
}

function parseX5c(x5c: unknown): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0) fail('integrity', 'header.x5c must be a non-empty array of certificates');
  if (x5c.length > MAX_CHAIN_LENGTH) fail('integrity', `header.x5c has ${x5c.length} certificates, over the limit of ${MAX_CHAIN_LENGTH}`);
  return x5c.map((entry, i) => {
    const der = decodeBase64Std(entry, `header.x5c[${i}]`);
    let cert: X509Certificate | undefined;
    try {
      cert = new X509Certificate(der);
    } catch {
      // fall through
    }
    // X509Certificate also takes PEM; require that the bytes were the DER itself.
    if (!cert || !cert.raw.equals(der)) fail('integrity', `header.x5c[${i}] is not a DER X.509 certificate`);
    return cert;
  });
}
