// Private key material, refused in the browser before anything is sent: the console's copy of the
// server's rules (src/audit/private-key-material.ts), which refuses it again regardless. Detected:
// PEM of any label holding PRIVATE KEY (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1, OpenSSH), PuTTY key
// files, the OpenSSH magic in base64, a JWK with "d", and bare DER as base64, base64url or hex
// (whole or the start of it, with or without line breaks) that opens like a PKCS#8, SEC1 or PKCS#1
// private key or an encrypted PKCS#8 one, and text that decodes to any of these (base64 of a PEM).
//
// Unlike the server, the browser has no DER parser to confirm a whole structure that opens in an
// unusual way: such a key is left to the server's refusal. Pure functions (no DOM), so the unit
// tests in test/console/ run them under Node.

const ARMOUR = /BEGIN [A-Z0-9 ]*PRIVATE KEY|PRIVATE KEY-----|PuTTY-User-Key-File|openssh-key-v1/;
const OPENSSH_BASE64 = ['b3BlbnNzaC1rZXktdjE', 'vcGVuc3NoLWtleS12M', '9wZW5zc2gta2V5LXYx'];
const BASE64_TOKEN = /[A-Za-z0-9+/_-]{16,}/g;
const HEX_TOKEN = /(?:[0-9a-fA-F]{2}){12,}/g;
const JWK_KTY = /"kty"\s*:/;
const JWK_D = /"d"\s*:\s*"[A-Za-z0-9_-]{8,}/;
const MAX_DECODED_TEXT = 65_536;
const MAX_DEPTH = 2;

const PBES2 = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PKCS12_PBE = [0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];

/** Whether `text` holds private key material in any of the encodings above. */
export function holdsPrivateKey(text: string, depth = 0): boolean {
  if (ARMOUR.test(text) || OPENSSH_BASE64.some((magic) => text.includes(magic))) return true;
  if (JWK_KTY.test(text) && JWK_D.test(text)) return true;
  const joined = text.replace(/\\[nr]|\s+/g, '');
  for (const source of joined === text ? [text] : [text, joined]) {
    for (const m of source.matchAll(BASE64_TOKEN)) if (decodedHolds(fromBase64(m[0]), depth)) return true;
    for (const m of source.matchAll(HEX_TOKEN)) if (decodedHolds(fromHex(m[0]), depth)) return true;
  }
  return false;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** base64 or base64url, unpadded or not, as Node's lenient decoder reads it (stops at the first other character). */
export function fromBase64(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const c = ch === '-' ? '+' : ch === '_' ? '/' : ch;
    const n = B64.indexOf(c);
    if (n < 0) break;
    value = ((value << 6) | n) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function decodedHolds(bytes: Uint8Array, depth: number): boolean {
  if (bytes.length < 12) return false;
  if (privateDer(bytes)) return true;
  if (depth >= MAX_DEPTH || bytes.length > MAX_DECODED_TEXT || !looksLikeText(bytes)) return false;
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return holdsPrivateKey(text, depth + 1);
}

const looksLikeText = (bytes: Uint8Array): boolean =>
  bytes.subarray(0, 64).every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));

function contentStart(bytes: Uint8Array, at: number): number | undefined {
  const first = bytes[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return at + 1;
  const count = first - 0x80;
  return count >= 1 && count <= 4 ? at + 1 + count : undefined;
}

const startsWith = (bytes: Uint8Array, prefix: readonly number[]): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);

/**
 * DER that opens like a private key: a SEQUENCE whose first element is a version INTEGER 0, 1 or 3
 * followed by an AlgorithmIdentifier (PKCS#8, PKCS#12), an OCTET STRING (SEC1) or an INTEGER
 * (PKCS#1); or an EncryptedPrivateKeyInfo (PBES2, PKCS#12 PBE). Public keys and certificates open
 * with a SEQUENCE instead.
 */
function privateDer(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x30) return false;
  const inner = contentStart(bytes, 1);
  if (inner === undefined) return false;
  const [tag, length, version, next] = [bytes[inner], bytes[inner + 1], bytes[inner + 2], bytes[inner + 3]];
  if (
    tag === 0x02 &&
    length === 0x01 &&
    (version === 0 || version === 1 || version === 3) &&
    (next === 0x30 || next === 0x04 || next === 0x02)
  )
    return true;
  if (tag === 0x30) {
    const oid = contentStart(bytes, inner + 1);
    if (oid === undefined) return false;
    const rest = bytes.subarray(oid);
    return startsWith(rest, PBES2) || startsWith(rest, PKCS12_PBE);
  }
  return false;
}

/** The refusal the console shows, naming the field; nothing was sent. */
export const privateKeyRefusal = (field: string): string =>
  `${field} holds a private key. trustgate takes public keys and certificates only: paste the public half (for example cosign.pub). Nothing was sent.`;
