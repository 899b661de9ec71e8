import { createPrivateKey } from 'node:crypto';

/*
 * Private key material in any encoding a person might paste: PEM of any label holding PRIVATE KEY
 * (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1, OpenSSH), PuTTY key files, a JWK with `d`, and bare DER
 * as base64, base64url or hex, whole or a fragment of its start, with or without line breaks, and
 * text that decodes to any of these (base64 of a PEM or a JWK). Bare DER is recognised by its ASN.1
 * opening (what every private key structure begins with and no public one does), and confirmed by
 * node:crypto's parser when the structure is whole. Lives with the audit log because the audit
 * scrubber uses it too (defence in depth); the admin API refuses any input holding it.
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
const DER_TYPES = ['pkcs8', 'sec1', 'pkcs1'] as const;

/** Whether `text` holds private key material in any of the encodings above. */
export function holdsPrivateKeyMaterial(text: string, depth = 0): boolean {
  if (ARMOUR.test(text) || OPENSSH_BASE64.some((magic) => text.includes(magic))) return true;
  if (JWK_KTY.test(text) && JWK_D.test(text)) return true;
  // A PEM body pasted without its armour keeps its line breaks (or JSON's escaped ones): read it joined too.
  const joined = text.replace(/\\[nr]|\s+/g, '');
  for (const source of joined === text ? [text] : [text, joined]) {
    for (const m of source.matchAll(BASE64_TOKEN)) if (decodedHolds(Buffer.from(m[0], 'base64'), depth)) return true;
    for (const m of source.matchAll(HEX_TOKEN)) if (decodedHolds(Buffer.from(m[0], 'hex'), depth)) return true;
  }
  return false;
}

/** Whether a JWK object (any depth is the caller's walk) is a private one. */
export const isPrivateJwk = (value: Record<string, unknown>): boolean => typeof value['kty'] === 'string' && typeof value['d'] === 'string';

/**
 * The path of the first field of a parsed JSON or YAML value holding private key material (a
 * string, a field name, or a private JWK object), as `scopes[0]` or `rules[1].name`; `''` for the
 * value itself; undefined when there is none.
 */
export function privateKeyField(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return holdsPrivateKeyMaterial(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = privateKeyField(item, `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if (isPrivateJwk(record)) return path;
  for (const [name, item] of Object.entries(record)) {
    const here = path === '' ? name : `${path}.${name}`;
    if (holdsPrivateKeyMaterial(name)) return `${path === '' ? '' : `${path}.`}(a field name)`;
    const found = privateKeyField(item, here, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function decodedHolds(bytes: Buffer, depth: number): boolean {
  if (bytes.length < 12) return false;
  if (privateDer(bytes)) return true;
  if (depth >= MAX_DEPTH || bytes.length > MAX_DECODED_TEXT || !looksLikeText(bytes)) return false;
  return holdsPrivateKeyMaterial(bytes.toString('latin1'), depth + 1);
}

const looksLikeText = (bytes: Buffer): boolean =>
  bytes.subarray(0, 64).every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));

/** The length octets at `at` (X.690 §8.1.3): where the contents start, or undefined. */
function contentStart(bytes: Buffer, at: number): number | undefined {
  const first = bytes[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return at + 1;
  const count = first - 0x80;
  return count >= 1 && count <= 4 ? at + 1 + count : undefined;
}

/** PBES2 (RFC 8018 A.4) and the PKCS#12 PBE schemes (RFC 7292 C): what an EncryptedPrivateKeyInfo is encrypted with. */
const PBES2 = Buffer.from('06092a864886f70d01050d', 'hex');
const PKCS12_PBE = Buffer.from('060a2a864886f70d010c01', 'hex');

/**
 * DER that opens like a private key: a SEQUENCE whose first element is a version INTEGER 0, 1 or 3
 * followed by an AlgorithmIdentifier (PKCS#8, RFC 5208 §5; PKCS#12 PFX, RFC 7292 §4), an OCTET
 * STRING (SEC1, RFC 5915 §3) or an INTEGER modulus (PKCS#1, RFC 8017 A.1.2); or an
 * EncryptedPrivateKeyInfo (RFC 5208 §6). Public keys and certificates open with a SEQUENCE instead.
 * Whole structures that open otherwise are still given to node:crypto's parser.
 */
function privateDer(bytes: Buffer): boolean {
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
    const rest = oid === undefined ? Buffer.alloc(0) : bytes.subarray(oid);
    if (rest.subarray(0, PBES2.length).equals(PBES2) || rest.subarray(0, PKCS12_PBE.length).equals(PKCS12_PBE)) return true;
  }
  return bytes.length <= 16_384 && parsesAsPrivateKey(bytes);
}

function parsesAsPrivateKey(der: Buffer): boolean {
  for (const type of DER_TYPES) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch (error) {
      // An encrypted PKCS#8 key parses as far as needing its passphrase: it is a private key all the same.
      if ((error as { code?: unknown }).code === 'ERR_MISSING_PASSPHRASE') return true;
    }
  }
  return false;
}
