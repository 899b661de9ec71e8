import { TrustgateError, type ErrorCode } from '../errors/errors.ts';

/**
 * Turns an upstream's non-success answer into trustgate's error. Client-facing 404 codes are kept
 * (MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN); anything else is a gateway failure that names the
 * upstream. Upstream error text is not echoed: it is not ours to vouch for.
 */
export function upstreamFailure(
  upstream: string,
  status: number,
  body: Buffer | undefined,
  notFound: ErrorCode,
  headers: Readonly<Record<string, string>> = {},
): TrustgateError {
  if (status === 404) {
    const code = upstreamErrorCode(body);
    const known: ErrorCode = code === 'NAME_UNKNOWN' || code === 'MANIFEST_UNKNOWN' || code === 'BLOB_UNKNOWN' ? code : notFound;
    return new TrustgateError(known, `${describe(known)} on upstream "${upstream}"`);
  }
  if (status === 401 || status === 403) {
    return new TrustgateError(
      'NAME_UNKNOWN',
      `upstream "${upstream}" refused access (${status}): the repository may not exist, or trustgate's credentials for it lack pull access`,
    );
  }
  if (status === 429) {
    const retryAfter = headers['retry-after'];
    return new TrustgateError('TOOMANYREQUESTS', `upstream "${upstream}" is rate limiting trustgate`, {
      headers: retryAfter !== undefined && /^\d{1,6}$/.test(retryAfter) ? { 'retry-after': retryAfter } : {},
    });
  }
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream "${upstream}" answered ${status}`);
}

function describe(code: ErrorCode): string {
  switch (code) {
    case 'NAME_UNKNOWN':
      return 'repository not found';
    case 'BLOB_UNKNOWN':
      return 'blob not found';
    default:
      return 'manifest not found';
  }
}

function upstreamErrorCode(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0 || body.length > 65_536) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown }> };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
