// Strict decoders for the two base64 alphabets a JWS envelope mixes (docs/wire-formats.md "JWS envelope", "Traps").
import { fail } from './failure.ts';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 7515 §2 base64url: URL alphabet, no padding, no whitespace (Go's RawURLEncoding). */
export function decodeBase64Url(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) fail('integrity', `${what} must be a non-empty base64url string`);
  // A length of 4n+1 cannot come from any byte string; `=` (the `*_invalid_*` fixtures) is not in the alphabet.
  if (value.includes('=')) fail('integrity', `${what} has base64 padding ("="); JWS uses unpadded base64url`);
  if (!BASE64URL.test(value) || value.length % 4 === 1) fail('integrity', `${what} is not base64url`);
  return Buffer.from(value, 'base64url');
}

/** RFC 7515 §4.1.6 x5c entries: standard alphabet, padded (Go's StdEncoding for []byte). */
export function decodeBase64Std(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value.length === 0 || !BASE64_STD.test(value)) {
    fail('integrity', `${what} is not standard base64`);
  }
  return Buffer.from(value, 'base64');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON text that must decode to a plain object. */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    fail('integrity', `${what} is not UTF-8 JSON`);
  }
  if (!isPlainObject(value)) fail('integrity', `${what} is not a JSON object`);
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
