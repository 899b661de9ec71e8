import { TrustgateError } from '../errors/errors.ts';

/*
 * TrustgateError has no "storage unavailable" code yet; INTERNAL keeps the message in the body
 * (500). A STORE_UNAVAILABLE code mapped to 503 belongs in errors/ once its owner adds it.
 */

export function trustStoreUnavailable(operation: string, cause: unknown): TrustgateError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TrustgateError('INTERNAL', `trust store unavailable, ${operation} was not applied: Redis failed (${why}); retry when Redis is back`, {
    cause,
    detail: { store: 'trust', operation, retryable: true },
  });
}

export function trustStoreClosed(operation: string): TrustgateError {
  return new TrustgateError('INTERNAL', `trust store is closed, ${operation} was not applied`, { detail: { store: 'trust', operation } });
}
