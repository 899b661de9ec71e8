import { TrustgateError } from '../errors/errors.ts';
import type { UpstreamConfig } from '../config/types.ts';

/** How a failed attempt may be retried: `connection` freely (up to `retries`), `timeout` at most once, `never`. */
export type FailureKind = 'connection' | 'timeout' | 'never';

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const SAFE_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** The error code of a (possibly wrapped or aggregated) transport error, if it looks like one. */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SAFE_CODE.test(code)) return code;
    const inner = (current as { errors?: unknown }).errors;
    current = Array.isArray(inner) && inner.length > 0 ? inner[0] : (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') ||
    code.includes('SELF_SIGNED') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  );
}

export function failureKind(error: unknown): FailureKind {
  if (error instanceof TrustgateError) return 'never';
  const code = errorCode(error);
  if (code === undefined) return 'never';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return 'timeout';
  }
  return CONNECTION_CODES.has(code) ? 'connection' : 'never';
}

/**
 * A transport failure as a TrustgateError naming the upstream. Only the error code is used, never
 * the error's message (which could echo a URL or header).
 */
export function toUpstreamError(config: UpstreamConfig, error: unknown): TrustgateError {
  if (error instanceof TrustgateError) return error;
  const name = JSON.stringify(config.name);
  const code = errorCode(error);
  const { connectMs, headersMs, bodyIdleMs } = config.timeouts;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new TrustgateError('UPSTREAM_TIMEOUT', `upstream ${name} did not answer within ${headersMs} ms`, { cause: error });
    case 'UND_ERR_BODY_TIMEOUT':
      return new TrustgateError('UPSTREAM_TIMEOUT', `upstream ${name} sent no data for ${bodyIdleMs} ms`, { cause: error });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new TrustgateError('UPSTREAM_TIMEOUT', `upstream ${name} did not accept a connection within ${connectMs} ms`, {
        cause: error,
      });
  }
  // Everything else, DNS failures (ENOTFOUND) included, means we could not get an answer.
  if (code !== undefined && isTlsCode(code)) {
    return new TrustgateError('UPSTREAM_UNREACHABLE', `upstream ${name} is unreachable (TLS: ${code})`, { cause: error });
  }
  return new TrustgateError('UPSTREAM_UNREACHABLE', `upstream ${name} is unreachable (${code ?? 'unknown error'})`, {
    cause: error,
  });
}
