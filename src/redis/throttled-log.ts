import type { Logger } from '../log/logger.ts';

/**
 * Logs a failure that can repeat many times a second (every cache call while Redis is down):
 * the first one, then at most one per interval with the count of those left out.
 */
export interface FailureLog {
  failed(error: unknown, record?: object): void;
  /** Forget the streak, so the next failure is logged at once (call on recovery). */
  reset(): void;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createFailureLog(logger: Logger, message: string, intervalMs = 30_000): FailureLog {
  let lastAt = -Infinity;
  let skipped = 0;
  return {
    failed(error, record = {}) {
      const at = Date.now();
      if (at - lastAt < intervalMs) {
        skipped += 1;
        return;
      }
      logger.warn({ ...record, err: errorMessage(error), ...(skipped > 0 ? { skipped } : {}) }, message);
      lastAt = at;
      skipped = 0;
    },
    reset() {
      lastAt = -Infinity;
      skipped = 0;
    },
  };
}
