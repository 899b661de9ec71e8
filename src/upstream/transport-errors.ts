import { TrustgateError } from '../errors/errors.ts';

// Classifies transport failures for retries; upstream-answer.ts turns them into trustgate's errors.

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

/** TLS and certificate failures, named as such in the message (upstream-answer.ts). */
export function isTlsCode(code: string): boolean {
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
