import { setTimeout as sleep } from 'node:timers/promises';
import type { UpstreamConfig } from '../config/types.ts';
import type { UpstreamResponse } from './types.ts';
import { errorCode, failureKind } from './transport-errors.ts';
import { upstreamError } from './upstream-answer.ts';

export interface Logger {
  warn(obj: object, msg?: string): void;
}

export interface RetryOptions {
  readonly config: UpstreamConfig;
  readonly logger?: Logger | undefined;
  /** Wait before retry number `n` is `backoffMs * n`. */
  readonly backoffMs?: number;
}

const RETRIED_STATUSES = new Set([502, 503, 504]);

/**
 * Runs an idempotent (GET/HEAD) exchange up to `config.retries + 1` times: again after a
 * connection failure or a 502/503/504, but after a timeout at most once, since it already took
 * long. The last 5xx response is returned as is; the last failure is thrown as a TrustgateError.
 */
export async function withRetries(exchange: () => Promise<UpstreamResponse>, options: RetryOptions): Promise<UpstreamResponse> {
  const { config, logger } = options;
  const backoffMs = options.backoffMs ?? 50;
  let timeoutRetried = false;
  for (let attempt = 1; ; attempt++) {
    const mayRetry = attempt <= config.retries;
    let reason: string;
    try {
      const response = await exchange();
      if (!mayRetry || !RETRIED_STATUSES.has(response.status)) return response;
      reason = `status ${response.status}`;
    } catch (error) {
      const kind = failureKind(error);
      const retry = mayRetry && (kind === 'connection' || (kind === 'timeout' && !timeoutRetried));
      if (!retry) throw upstreamError(config.name, { thrown: error, timeouts: config.timeouts });
      if (kind === 'timeout') timeoutRetried = true;
      reason = errorCode(error) ?? 'error';
    }
    logger?.warn({ upstream: config.name, attempt, reason }, 'retrying upstream request');
    await sleep(backoffMs * attempt);
  }
}
