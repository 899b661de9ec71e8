// Base64 as cosign's Go code decodes it. Both decoders skip CR and LF, as Go's encoding/base64
// does (fixture pki-valid wraps its signature every 76 characters), and reject anything else
// that is not in the alphabet: spaces, tabs, junk, misplaced or excess padding.

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const STD_CHARS = /[+/]/;
const URL_CHARS = /[-_]/;
const ANY = /^[A-Za-z0-9+/_-]*={0,2}$/;

const dropLineBreaks = (text: string): string => text.replace(/[\r\n]/g, '');

/**
 * Go `base64.StdEncoding`: standard alphabet, padding required (length a multiple of 4).
 * Returns undefined for anything Go would reject.
 */
export function decodeStdBase64(text: string): Buffer | undefined {
  const compact = dropLineBreaks(text);
  if (compact.length % 4 !== 0 || !STD.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/**
 * DSSE (envelope.md: "accept both standard and URL-safe") and protobuf-JSON bytes fields:
 * standard or URL-safe alphabet, not mixed, padding optional but correct when present.
 */
export function decodeAnyBase64(text: string): Buffer | undefined {
  const compact = dropLineBreaks(text);
  if (!ANY.test(compact)) return undefined;
  if (STD_CHARS.test(compact) && URL_CHARS.test(compact)) return undefined;
  const bare = compact.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  if (bare.length !== compact.length && compact.length % 4 !== 0) return undefined;
  return Buffer.from(bare.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
