// The JWS protected header of a Notary Project signature (signature-envelope-jws.md "Protected
// Headers"; docs/wire-formats.md "Protected header").
import { fail } from './failure.ts';

export const NOTARY_ALGORITHMS = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type NotaryAlgorithm = (typeof NOTARY_ALGORITHMS)[number];

export const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
export const H = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
} as const;

/** The critical headers trustgate understands; jose is told about exactly these. */
export const UNDERSTOOD_CRITICAL = [H.signingScheme, H.expiry, H.authenticSigningTime] as const;

export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

export interface ProtectedHeader {
  readonly alg: NotaryAlgorithm;
  readonly scheme: SigningScheme;
  /** Epoch ms. Unauthenticated under notary.x509: format-checked, never trusted. */
  readonly signingTime?: number;
  /** Epoch ms; present exactly under notary.x509.signingAuthority. */
  readonly authenticSigningTime?: number;
  /** Epoch ms; the signer's "best by use" time. */
  readonly expiry?: number;
}

export function parseProtectedHeader(h: Readonly<Record<string, unknown>>): ProtectedHeader {
  const alg = h.alg;
  // signature-envelope-jws.md "Supported alg header values": never none/HMAC/RS*.
  if (typeof alg !== 'string' || !(NOTARY_ALGORITHMS as readonly string[]).includes(alg)) {
    fail('integrity', `alg ${JSON.stringify(alg)} is not a Notary Project algorithm (${NOTARY_ALGORITHMS.join(', ')})`);
  }
  if (h.cty !== PAYLOAD_CONTENT_TYPE) fail('integrity', `cty ${JSON.stringify(h.cty)} is not ${PAYLOAD_CONTENT_TYPE}`);
  // signature-specification.md "Guidelines for implementations": without plugin support, fail.
  // trustgate runs no plugins and implements no plugin's logic.
  for (const name of [H.verificationPlugin, H.verificationPluginMinVersion]) {
    if (name in h)
      fail('unsupported_algorithm', `signature names ${name} ${JSON.stringify(h[name])}; trustgate runs no verification plugins`);
  }
  const crit = checkCrit(h);
  const scheme = h[H.signingScheme];
  if (scheme !== 'notary.x509' && scheme !== 'notary.x509.signingAuthority') {
    fail('integrity', `signing scheme ${JSON.stringify(scheme)} is not notary.x509 or notary.x509.signingAuthority`);
  }
  const expiry = optionalTime(h, H.expiry);
  if (expiry !== undefined && !crit.includes(H.expiry)) fail('integrity', `${H.expiry} is present but not listed in crit`);
  // signing-scheme.md: each scheme carries exactly one of the two signing times.
  if (scheme === 'notary.x509') {
    if (H.authenticSigningTime in h) fail('integrity', `${H.authenticSigningTime} is not allowed under notary.x509`);
    const signingTime = optionalTime(h, H.signingTime);
    if (signingTime === undefined) fail('integrity', `${H.signingTime} is required under notary.x509`);
    return { alg: alg as NotaryAlgorithm, scheme, signingTime, ...(expiry === undefined ? {} : { expiry }) };
  }
  if (H.signingTime in h) fail('integrity', `${H.signingTime} is not allowed under notary.x509.signingAuthority`);
  const authenticSigningTime = optionalTime(h, H.authenticSigningTime);
  if (authenticSigningTime === undefined) fail('integrity', `${H.authenticSigningTime} is required under notary.x509.signingAuthority`);
  if (!crit.includes(H.authenticSigningTime)) fail('integrity', `${H.authenticSigningTime} must be listed in crit`);
  return { alg: alg as NotaryAlgorithm, scheme, authenticSigningTime, ...(expiry === undefined ? {} : { expiry }) };
}

/** RFC 7515 §4.1.11 and signature-envelope-jws.md `crit`: required, names present, signingScheme in it. */
function checkCrit(h: Readonly<Record<string, unknown>>): readonly string[] {
  const crit = h.crit;
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((n) => typeof n === 'string' && n.length > 0)) {
    fail('integrity', 'crit must be a non-empty array of header names');
  }
  const names = crit as string[];
  if (new Set(names).size !== names.length) fail('integrity', 'crit lists a header twice');
  for (const name of names) {
    if (!(name in h)) fail('integrity', `crit lists ${name}, which is not in the protected header`);
    if (!(UNDERSTOOD_CRITICAL as readonly string[]).includes(name)) {
      fail('unsupported_algorithm', `critical header ${name} is not supported`);
    }
  }
  if (!names.includes(H.signingScheme)) fail('integrity', `crit must list ${H.signingScheme}`);
  return names;
}

// RFC 3339 date-time (signature-envelope-jws.md: fractional seconds SHOULD NOT be used, so allowed).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function optionalTime(h: Readonly<Record<string, unknown>>, name: string): number | undefined {
  if (!(name in h)) return undefined;
  const value = h[name];
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  const ms = m ? Date.parse(value as string) : NaN;
  // Round-trip the calendar fields: Date.parse quietly rolls 2022-02-30 over into March.
  const [, y, mo, d, hh, mi, ss] = (m ?? []).map(Number);
  const calendarOk = m !== null && new Date(Date.UTC(y!, mo! - 1, d!)).getUTCDate() === d && hh! < 24 && mi! < 60 && ss! < 60;
  if (!Number.isFinite(ms) || !calendarOk) fail('integrity', `${name} ${JSON.stringify(value)} is not an RFC 3339 time`);
  return ms;
}

/** RFC 3339 UTC without fractional seconds, as notation writes times. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
