import { decodeAnyBase64 } from './base64.ts';
// DSSE pre-authentication encoding (secure-systems-lab/dsse protocol.md; docs/wire-formats.md "DSSE and PAE"):
// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN = byte length in ASCII decimal.

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${payload.length} `, 'ascii'), payload]);
}

/** A DSSE envelope holds 1–16 signatures here, to bound the work. */
export const MAX_DSSE_SIGNATURES = 16;

/** The decoded `signatures[].sig` of a DSSE envelope (std or URL-safe base64), or undefined when malformed. */
export function decodeDsseSignatures(value: unknown): Buffer[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DSSE_SIGNATURES) return undefined;
  const out: Buffer[] = [];
  for (const entry of value) {
    const raw = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['sig'] : undefined;
    const sig = typeof raw === 'string' ? decodeAnyBase64(raw) : undefined;
    if (sig === undefined || sig.length === 0) return undefined;
    out.push(sig);
  }
  return out;
}
