/**
 * Runs on every serialised log line before it is written (pino's streamWrite hook): credentials
 * are replaced wherever they sit. By field name at any depth (cheaper than pino's wildcard redact
 * paths, which cost ~10x a whole log call), and inside text: URL userinfo, query parameters,
 * Authorization values, JWTs, private keys.
 */

const CENSOR = '[redacted]';
/** Field names whose values are credentials (compared case-insensitively). */
export const SECRET_FIELDS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'clientSecret',
  'apiKey',
  'api_key',
  'privateKey',
  'private_key',
  'signingKey',
];
const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
/** `"field":<value>` for a string, an array of scalars, a flat object, or a bare scalar. */
const SECRET_FIELD = new RegExp(
  `"(${SECRET_FIELDS.join('|')})":(${JSON_STRING}|\\[(?:[^\\]"]|${JSON_STRING})*\\]|\\{(?:[^{}"]|${JSON_STRING})*\\}|[^,}\\]]+)`,
  'gi',
);
/** `scheme://user:password@` (RFC 3986 userinfo), up to the last `@` so a password holding `@` or `/` goes too. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/\s"@:\\]*:[^\s"]*@/gi;
/** Credentials in query strings: OAuth tokens, passwords, pre-signed storage URLs. */
const QUERY_SECRET =
  /([?&;](?:access_token|refresh_token|id_token|token|client_secret|password|passwd|secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=)[^&\s"#\\]*/gi;
/** `Bearer <token>` / `Basic <base64>` (RFC 9110 §11.4 credentials): a token68 that looks like one, not an English word. */
const AUTH_VALUE = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/-]{8,}=*)/gi;
/** Compact JWS/JWT: header and payload are base64url JSON objects, so both start with `eyJ`. */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g;

const looksLikeCredential = (token: string): boolean => /[0-9=+/._~-]/.test(token) || /[A-Z]/.test(token.slice(1));

export function scrubSecrets(line: string): string {
  let out = line.replace(SECRET_FIELD, `"$1":"${CENSOR}"`);
  if (out.includes('://')) out = out.replace(USERINFO, `$1${CENSOR}@`);
  if (out.includes('=')) out = out.replace(QUERY_SECRET, `$1${CENSOR}`);
  if (/bearer|basic/i.test(out))
    out = out.replace(AUTH_VALUE, (whole, scheme: string, space: string, token: string) =>
      looksLikeCredential(token) ? `${scheme}${space}${CENSOR}` : whole,
    );
  if (out.includes('eyJ')) out = out.replace(JWT, CENSOR);
  if (out.includes('PRIVATE KEY-----')) out = out.replace(PRIVATE_KEY, `[redacted private key]`);
  return out;
}
