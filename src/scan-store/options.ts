import { TrustgateError } from '../errors/errors.ts';
import type { Logger } from '../log/logger.ts';

export interface ScanStoreOptions {
  /** How long a digest stays pending with no scan before a pull may queue it again. Default 10 min. */
  readonly requeueAfterMs?: number;
  /** Roughly how many requests the queue holds; the oldest go first. Default 10 000. */
  readonly maxQueueLength?: number;
  readonly logger?: Logger;
}

export const DEFAULT_REQUEUE_AFTER_MS = 10 * 60_000;
export const DEFAULT_MAX_QUEUE_LENGTH = 10_000;

export function validateScanStoreOptions(options: ScanStoreOptions): { requeueAfterMs: number; maxQueueLength: number } {
  const { requeueAfterMs = DEFAULT_REQUEUE_AFTER_MS, maxQueueLength = DEFAULT_MAX_QUEUE_LENGTH } = options;
  if (!Number.isSafeInteger(requeueAfterMs) || requeueAfterMs <= 0)
    throw new TypeError('scan store: requeueAfterMs must be a positive integer');
  if (!Number.isSafeInteger(maxQueueLength) || maxQueueLength <= 0)
    throw new TypeError('scan store: maxQueueLength must be a positive integer');
  return { requeueAfterMs, maxQueueLength };
}

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError('scan store: limit must be an integer ≥ 0');
}

/*
 * Like the trust store's: TrustgateError has no "storage unavailable" code yet, so INTERNAL with
 * `detail.retryable`; the admin API answers 503 for it.
 */
export function scanStoreUnavailable(operation: string, cause: unknown): TrustgateError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new TrustgateError('INTERNAL', `scan store unavailable, ${operation} failed: Redis failed (${why}); retry when Redis is back`, {
    cause,
    detail: { store: 'scan', operation, retryable: true },
  });
}

export function scanStoreClosed(operation: string): TrustgateError {
  return new TrustgateError('INTERNAL', `scan store is closed, ${operation} was not applied`, { detail: { store: 'scan', operation } });
}
