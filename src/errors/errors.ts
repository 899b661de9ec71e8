/**
 * One error type for everything trustgate reports to a client. `code` is a closed set; exactly one
 * module (errors/http.ts) turns it into an HTTP status and an OCI error body.
 */
export type ErrorCode =
  // OCI distribution-spec error codes (spec.md "Error Codes").
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  // A query parameter trustgate will not forward.
  | 'QUERY_INVALID'
  // Admin API: a request that names something wrongly or sends a bad body.
  | 'BAD_REQUEST'
  // A registry (/v2) request that carries a body: refused before anything goes upstream (400).
  | 'REQUEST_BODY_REFUSED'
  // Admin API: a request body over its cap (413).
  | 'BODY_TOO_LARGE'
  // Admin API: the thing named does not exist, or the change conflicts with the current state.
  | 'NOT_FOUND'
  | 'CONFLICT'
  // Shared state (Redis) is needed for this and is not reachable.
  | 'STORE_UNAVAILABLE'
  // This replica is still starting (config, policy or trust store not loaded yet).
  | 'NOT_READY'
  // Gateway failures: the upstream could not give a usable answer.
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_BUSY'
  | 'UPSTREAM_DIGEST_MISMATCH'
  | 'UPSTREAM_MANIFEST_TOO_LARGE'
  // An upstream redirect the config does not allow (host, address or hop count): reason upstream_redirect_refused.
  | 'UPSTREAM_REDIRECT_REFUSED'
  | 'INTERNAL';

export interface ErrorOptions {
  readonly detail?: unknown;
  readonly cause?: unknown;
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  readonly headers?: Readonly<Record<string, string>>;
}

export class TrustgateError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrustgateError';
    this.code = code;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export function isTrustgateError(value: unknown): value is TrustgateError {
  return value instanceof TrustgateError;
}
