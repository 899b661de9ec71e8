// A minimal DER writer (ITU-T X.690 §8 basic encoding, §10 distinguished rules) for the local
// sigstore kit: certificates (RFC 5280 §4.1), CMS SignedData (RFC 5652 §5) and TSTInfo (RFC 3161
// §2.4.2). Written out by hand on purpose: the kit must not share an encoder with the verifier, and
// every byte it emits is visible here. No src/ imports.

/** X.690 §8.1.2–8.1.3: identifier octet, definite length (short form < 128, else long form), contents. */
export function tlv(tag: number, ...contents: readonly Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  if (n < 0x80) return Buffer.concat([Buffer.from([tag, n]), body]);
  const len: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) len.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | len.length, ...len]), body]);
}

export const seq = (...items: readonly Buffer[]): Buffer => tlv(0x30, ...items);

/** X.690 §11.6: the components of a DER SET OF are sorted by their encodings. */
export const setOf = (...items: readonly Buffer[]): Buffer => tlv(0x31, ...[...items].sort(Buffer.compare));

/** [n] EXPLICIT: constructed context-specific tag around a complete encoding. */
export const explicit = (n: number, ...inner: readonly Buffer[]): Buffer => tlv(0xa0 | n, ...inner);

/** [n] IMPLICIT on a primitive type (e.g. GeneralName's rfc822Name [1] IA5String). */
export const implicitPrimitive = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

export const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
export const octets = (value: Buffer): Buffer => tlv(0x04, value);
export const utf8 = (value: string): Buffer => tlv(0x0c, Buffer.from(value, 'utf8'));
export const printable = (value: string): Buffer => tlv(0x13, Buffer.from(value, 'ascii'));

/** X.690 §8.6: a BIT STRING with `unused` trailing bits in the last octet. */
export const bitString = (value: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), value);

/** X.690 §8.3: two's complement, minimal octets. Numbers or unsigned big-endian magnitudes. */
export function int(value: number | bigint | Buffer): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(value)) {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = value.subarray(start);
    if (bytes.length === 0) bytes = Buffer.from([0]);
  } else {
    let hex = BigInt(value).toString(16);
    if (BigInt(value) < 0n) throw new Error('negative INTEGER not supported');
    if (hex.length % 2) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
  }
  return tlv(0x02, (bytes[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** X.690 §8.19: first two arcs as 40·a+b, every arc base-128 with continuation bits. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a, b, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a! * 40n + b!, ...rest]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

const two = (n: number): string => String(n).padStart(2, '0');
const clock = (d: Date): string =>
  `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;

/** X.690 §11.8 / RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, whole seconds. */
export const utcTime = (d: Date): Buffer => tlv(0x17, Buffer.from(`${two(d.getUTCFullYear() % 100)}${clock(d)}Z`));

/** X.690 §11.7 / RFC 5280 §4.1.2.5.2: YYYYMMDDHHMMSSZ, whole seconds. */
export const generalizedTime = (d: Date): Buffer => tlv(0x18, Buffer.from(`${d.getUTCFullYear()}${clock(d)}Z`));

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export const x509Time = (d: Date): Buffer => (d.getUTCFullYear() < 2050 ? utcTime(d) : generalizedTime(d));

/** BIT STRING for a NamedBitList (X.690 §11.2.2: trailing zero bits removed). Bit 0 is the MSB of octet 0. */
export function namedBits(bits: readonly number[]): Buffer {
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  return bitString(bytes, 7 - (max % 8));
}

/** RFC 7468 §2 textual encoding, 64-column base64. */
export function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
