import { TrustgateError, type ErrorCode } from './errors.ts';

/** The only place an error becomes an HTTP status and an OCI error body (distribution-spec "Error Codes"). */
const STATUS: Record<ErrorCode, { status: number; ociCode: string }> = {
  NAME_INVALID: { status: 400, ociCode: 'NAME_INVALID' },
  NAME_UNKNOWN: { status: 404, ociCode: 'NAME_UNKNOWN' },
  DIGEST_INVALID: { status: 400, ociCode: 'DIGEST_INVALID' },
  MANIFEST_INVALID: { status: 400, ociCode: 'MANIFEST_INVALID' },
  MANIFEST_UNKNOWN: { status: 404, ociCode: 'MANIFEST_UNKNOWN' },
  BLOB_UNKNOWN: { status: 404, ociCode: 'BLOB_UNKNOWN' },
  UNAUTHORIZED: { status: 401, ociCode: 'UNAUTHORIZED' },
  DENIED: { status: 403, ociCode: 'DENIED' },
  UNSUPPORTED: { status: 405, ociCode: 'UNSUPPORTED' },
  TOOMANYREQUESTS: { status: 429, ociCode: 'TOOMANYREQUESTS' },
  QUERY_INVALID: { status: 400, ociCode: 'UNSUPPORTED' },
  BAD_REQUEST: { status: 400, ociCode: 'BAD_REQUEST' },
  BODY_TOO_LARGE: { status: 413, ociCode: 'BODY_TOO_LARGE' },
  REQUEST_BODY_REFUSED: { status: 400, ociCode: 'UNSUPPORTED' },
  NOT_FOUND: { status: 404, ociCode: 'NOT_FOUND' },
  CONFLICT: { status: 409, ociCode: 'CONFLICT' },
  STORE_UNAVAILABLE: { status: 503, ociCode: 'UNAVAILABLE' },
  NOT_READY: { status: 503, ociCode: 'UNAVAILABLE' },
  UPSTREAM_UNREACHABLE: { status: 502, ociCode: 'UNAVAILABLE' },
  UPSTREAM_BAD_RESPONSE: { status: 502, ociCode: 'UNAVAILABLE' },
  UPSTREAM_DIGEST_MISMATCH: { status: 502, ociCode: 'DIGEST_INVALID' },
  UPSTREAM_MANIFEST_TOO_LARGE: { status: 502, ociCode: 'MANIFEST_INVALID' },
  // trustgate refuses to fetch from where the upstream pointed: a config or egress matter, never cached as a verdict.
  UPSTREAM_REDIRECT_REFUSED: { status: 403, ociCode: 'DENIED' },
  UPSTREAM_BUSY: { status: 503, ociCode: 'UNAVAILABLE' },
  UPSTREAM_TIMEOUT: { status: 504, ociCode: 'UNAVAILABLE' },
  INTERNAL: { status: 500, ociCode: 'UNKNOWN' },
};

export interface HttpError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function toHttpError(error: unknown): HttpError {
  const known = error instanceof TrustgateError ? error : new TrustgateError('INTERNAL', 'internal error');
  const { status, ociCode } = STATUS[known.code];
  const entry: Record<string, unknown> = { code: ociCode, message: known.message };
  if (known.detail !== undefined) entry['detail'] = known.detail;
  return {
    status,
    headers: { 'content-type': 'application/json', ...known.headers },
    body: JSON.stringify({ errors: [entry] }),
  };
}

/**
 * The `Warning` for a refusal answered without a body (a HEAD, which containerd resolves with):
 * RFC 9111 §5.5 warn-code 299, warn-agent `trustgate`, and a quoted text of two ASCII tokens, the
 * primary reason code and `request-id=<id>`. Never an image name or free text. Undefined for an
 * error that carries no reason code (only refusals do: a denial's `reasons`, a redirect's `reason`).
 */
export function refusalWarning(error: unknown, requestId: string): string | undefined {
  if (!(error instanceof TrustgateError) || typeof error.detail !== 'object' || error.detail === null) return undefined;
  const detail = error.detail as { reason?: unknown; reasons?: unknown };
  const code = Array.isArray(detail.reasons) ? detail.reasons[0] : detail.reason;
  if (typeof code !== 'string') return undefined;
  const token = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return `299 trustgate "${token(code)} request-id=${token(requestId)}"`;
}
