/*
 * Private key material in any encoding a person might paste: PEM of any label holding PRIVATE KEY
 * (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1, OpenSSH), PuTTY key files, a JWK with `d`, and bare DER
 * as base64, base64url or hex, whole or a fragment of its start, with or without line breaks, and
 * text that decodes to any of these (base64 of a PEM or a JWK). Bare DER is recognised by its ASN.1
 * opening (what every private key structure begins with and no public one does); a caller that has a
 * DER parser may confirm a whole structure that opens otherwise (`confirmDer`).
 *
 * One pure module for both sides: the admin API and the audit scrubber (src/audit/private-key-material.ts,
 * which adds node:crypto's parser) and the console, which refuses a pasted key before it is sent
 * (console/src/private-key.ts). No Buffer, no DOM: it runs in Node and in the browser bundle.
 *
 * Not detected, deliberately: a raw 32-byte scalar in hex or base64, which is indistinguishable
 * from a digest.
 */

/** PEM armour (RFC 7468 labels are upper case; prose such as "holds a private key" is not armour), PuTTY, OpenSSH. */
const ARMOUR = /BEGIN [A-Z0-9 ]*PRIVATE KEY|PRIVATE KEY-----|PuTTY-User-Key-File|openssh-key-v1/;
/** base64 of "openssh-key-v1", the OpenSSH private key magic, at the three alignments. */
const OPENSSH_BASE64 = ['b3BlbnNzaC1rZXktdjE', 'vcGVuc3NoLWtleS12M', '9wZW5zc2gta2V5LXYx'];
const BASE64_TOKEN = /[A-Za-z0-9+/_-]{16,}/g;
const HEX_TOKEN = /(?:[0-9a-fA-F]{2}){12,}/g;
/** A JWK text with a private member: `"kty"` and `"d"` (RFC 7518 §6.2.2.1, §6.3.2.1; OKP: RFC 8037 §2). */
const JWK_KTY = /"kty"\s*:/;
const JWK_D = /"d"\s*:\s*"[A-Za-z0-9_-]{8,}/;
/** Decoded text is looked into only up to this size, and one level of nesting deep (base64 of a PEM). */
const MAX_DECODED_TEXT = 65_536;
const MAX_DEPTH = 2;

/** PBES2 (RFC 8018 A.4) and the PKCS#12 PBE schemes (RFC 7292 C): what an EncryptedPrivateKeyInfo is encrypted with. */
const PBES2 = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PKCS12_PBE = [0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];

/** Confirms DER that opens in an unusual way as a private key (the server's node:crypto parser); absent: not confirmed. */
export type ConfirmDer = (der: Uint8Array) => boolean;

/** Whether `text` holds private key material in any of the encodings above. */
export function holdsPrivateKeyText(text: string, confirmDer?: ConfirmDer, depth = 0): boolean {
  if (ARMOUR.test(text) || OPENSSH_BASE64.some((magic) => text.includes(magic))) return true;
  if (JWK_KTY.test(text) && JWK_D.test(text)) return true;
  // A PEM body pasted without its armour keeps its line breaks (or JSON's escaped ones): read it joined too.
  const joined = text.replace(/\\[nr]|\s+/g, '');
  for (const source of joined === text ? [text] : [text, joined]) {
    for (const m of source.matchAll(BASE64_TOKEN)) if (decodedHolds(fromBase64(m[0]), confirmDer, depth)) return true;
    for (const m of source.matchAll(HEX_TOKEN)) if (decodedHolds(fromHex(m[0]), confirmDer, depth)) return true;
  }
  return false;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** base64 or base64url, padded or not, read as Node's lenient decoder reads it (it stops at the first other character). */
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

function decodedHolds(bytes: Uint8Array, confirmDer: ConfirmDer | undefined, depth: number): boolean {
  if (bytes.length < 12) return false;
  if (privateDer(bytes, confirmDer)) return true;
  if (depth >= MAX_DEPTH || bytes.length > MAX_DECODED_TEXT || !looksLikeText(bytes)) return false;
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return holdsPrivateKeyText(text, confirmDer, depth + 1);
}

const looksLikeText = (bytes: Uint8Array): boolean =>
  bytes.subarray(0, 64).every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));

/** The length octets at `at` (X.690 §8.1.3): where the contents start, or undefined. */
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
 * followed by an AlgorithmIdentifier (PKCS#8, RFC 5208 §5; PKCS#12 PFX, RFC 7292 §4), an OCTET
 * STRING (SEC1, RFC 5915 §3) or an INTEGER modulus (PKCS#1, RFC 8017 A.1.2); or an
 * EncryptedPrivateKeyInfo (RFC 5208 §6). Public keys and certificates open with a SEQUENCE instead.
 * Whole structures that open otherwise go to `confirmDer` when there is one (at most 16 KiB).
 */
function privateDer(bytes: Uint8Array, confirmDer: ConfirmDer | undefined): boolean {
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
    const rest = oid === undefined ? new Uint8Array(0) : bytes.subarray(oid);
    if (startsWith(rest, PBES2) || startsWith(rest, PKCS12_PBE)) return true;
  }
  return confirmDer !== undefined && bytes.length <= 16_384 && confirmDer(bytes);
}
