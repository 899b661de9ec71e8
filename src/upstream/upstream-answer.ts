import type { UpstreamConfig } from '../config/types.ts';
import { TrustgateError, type ErrorCode } from '../errors/errors.ts';
import { errorCode, isTlsCode } from './transport-errors.ts';

/**
 * What a 404 means for the thing asked for: the client-facing code (distribution-spec "Error Codes"),
 * or `named` for something another artifact named by digest (a signature payload, a config): the
 * upstream then sent a bad artifact, which is a finding, not the client's 404.
 */
export type Missing = 'MANIFEST_UNKNOWN' | 'NAME_UNKNOWN' | 'BLOB_UNKNOWN' | 'named';

/** An upstream answer that is not the success asked for, or an exchange that got no answer at all. */
export type UpstreamFailure =
  | {
      readonly status: number;
      readonly body?: Buffer | undefined;
      readonly headers?: Readonly<Record<string, string>> | undefined;
      readonly missing: Missing;
      /** The answer came from blob storage a redirect pointed at, not from the registry. */
      readonly storage?: boolean;
    }
  | { readonly thrown: unknown; readonly timeouts: UpstreamConfig['timeouts']; readonly storage?: boolean };

/**
 * The one upstream-error mapper: turns an upstream's non-success answer, or a transport failure,
 * into trustgate's error. Client-facing 404 codes are kept (MANIFEST_UNKNOWN, NAME_UNKNOWN,
 * BLOB_UNKNOWN); 401/403 say the repository is not there for us; 429 passes Retry-After on; a 5xx
 * or no answer is the upstream failing (UPSTREAM_UNREACHABLE or UPSTREAM_TIMEOUT), never a finding,
 * which would turn it into a deny cached for `denyTtlMs`; anything else is UPSTREAM_BAD_RESPONSE.
 * Upstream error text is never echoed (docs/wire-formats.md "Errors"), nor a transport error's
 * message (it could hold a URL or a header): only its code.
 */
/** Retry-After as delay-seconds or an IMF-fixdate (RFC 9110 §10.2.3); anything else is dropped, never echoed. */
const RETRY_AFTER =
  /^(?:\d{1,6}|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT)$/;

export function upstreamError(upstream: string, failure: UpstreamFailure): TrustgateError {
  const who = failure.storage === true ? `blob storage of upstream ${JSON.stringify(upstream)}` : `upstream ${JSON.stringify(upstream)}`;
  if ('thrown' in failure) return transportError(who, failure.thrown, failure.timeouts);
  const { status, missing } = failure;
  if (status === 429) {
    const retryAfter = failure.headers?.['retry-after'];
    return new TrustgateError('TOOMANYREQUESTS', `${who} is rate limiting trustgate`, {
      headers: retryAfter !== undefined && RETRY_AFTER.test(retryAfter.trim()) ? { 'retry-after': retryAfter.trim() } : {},
    });
  }
  if (status >= 500) return new TrustgateError('UPSTREAM_UNREACHABLE', `${who} answered ${status}`);
  if (missing !== 'named' && status === 404) {
    const code = registryErrorCode(failure.body);
    const known: ErrorCode = code === 'NAME_UNKNOWN' || code === 'MANIFEST_UNKNOWN' || code === 'BLOB_UNKNOWN' ? code : missing;
    return new TrustgateError(known, `${describe(known)} on ${who}`);
  }
  if (missing !== 'named' && (status === 401 || status === 403)) {
    return new TrustgateError(
      'NAME_UNKNOWN',
      `${who} refused access (${status}): the repository may not exist, or trustgate's credentials for it lack pull access`,
    );
  }
  return new TrustgateError('UPSTREAM_BAD_RESPONSE', `${who} answered ${status}`);
}

/**
 * Whether an error says the upstream answered with something unusable (malformed, or not what its
 * digest says) rather than failing to answer: discovery records those as findings.
 */
export function isUnusableAnswer(error: unknown): error is TrustgateError {
  return error instanceof TrustgateError && (error.code === 'UPSTREAM_BAD_RESPONSE' || error.code === 'UPSTREAM_DIGEST_MISMATCH');
}

/**
 * The signature pull/blobs.ts calls: a 404 means `notFound`. Kept so that file needs no edit; it is
 * the same mapping (`upstreamError`).
 */
export function upstreamFailure(
  upstream: string,
  status: number,
  body: Buffer | undefined,
  notFound: Exclude<Missing, 'named'>,
  headers: Readonly<Record<string, string>> = {},
): TrustgateError {
  return upstreamError(upstream, { status, body, headers, missing: notFound });
}

function transportError(who: string, error: unknown, timeouts: UpstreamConfig['timeouts']): TrustgateError {
  if (error instanceof TrustgateError) return error;
  const code = errorCode(error);
  const { connectMs, headersMs, bodyIdleMs } = timeouts;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new TrustgateError('UPSTREAM_TIMEOUT', `${who} did not answer within ${headersMs} ms`, { cause: error });
    case 'UND_ERR_BODY_TIMEOUT':
      return new TrustgateError('UPSTREAM_TIMEOUT', `${who} sent no data for ${bodyIdleMs} ms`, { cause: error });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new TrustgateError('UPSTREAM_TIMEOUT', `${who} did not accept a connection within ${connectMs} ms`, { cause: error });
  }
  // Everything else, DNS failures (ENOTFOUND) included, means we could not get an answer.
  const why = code !== undefined && isTlsCode(code) ? `TLS: ${code}` : (code ?? 'unknown error');
  return new TrustgateError('UPSTREAM_UNREACHABLE', `${who} is unreachable (${why})`, { cause: error });
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

/** The first `errors[].code` of a registry error body (distribution-spec "Error Codes"), read only to pick one of ours. */
function registryErrorCode(body: Buffer | undefined): string | undefined {
  if (body === undefined || body.length === 0 || body.length > 65_536) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown }> };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
