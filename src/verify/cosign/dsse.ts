// DSSE pre-authentication encoding (secure-systems-lab/dsse protocol.md; PROTOCOL §2.4):
// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN = byte length in ASCII decimal.

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}
