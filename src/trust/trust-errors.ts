import { TrustgateError } from '../errors/errors.ts';

/** Redis failed: nothing was applied, and retrying once Redis is back is safe (503). */
export function trustStoreUnavailable(operation: string, cause: unknown): TrustgateError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TrustgateError(
    'STORE_UNAVAILABLE',
    `trust store unavailable, ${operation} was not applied: Redis failed (${why}); retry when Redis is back`,
    {
      cause,
      detail: { store: 'trust', operation, retryable: true },
    },
  );
}

export function trustStoreClosed(operation: string): TrustgateError {
  return new TrustgateError('INTERNAL', `trust store is closed, ${operation} was not applied`, { detail: { store: 'trust', operation } });
}
