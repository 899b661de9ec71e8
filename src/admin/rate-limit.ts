import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { TrustgateError } from '../errors/errors.ts';
import type { Logger } from '../log/logger.ts';
import { WINDOW_MS, type AdminRateLimitStores } from './rate-limit-store.ts';

export type { AdminRateLimitConfig, AdminRateLimitStores } from './rate-limit-store.ts';

/**
 * Fixed one-minute windows over the admin API (/admin/v1). Each method throws TOOMANYREQUESTS
 * (429 with Retry-After) when the caller is over its limit.
 */
export interface AdminRateLimit {
  /** Before the token is checked: refuses an address with too many failed authentications. */
  beforeAuth(address: string): Promise<void>;
  /** The token was refused (401). */
  failedAuth(address: string): Promise<void>;
  /** Counts an authenticated call against its subject and its address. */
  authenticated(subject: string, address: string): Promise<void>;
}

export type AdminThrottleReason = 'failed_auth' | 'requests';

export interface AdminRateLimitDeps {
  /** The counts, in memory or shared through Redis (rate-limit-store.ts); they hold the limits. */
  readonly stores: AdminRateLimitStores;
  readonly logger: Logger;
  /** Told of each refused call (`trustgate_admin_throttled_total{reason}`). */
  readonly onThrottled?: ((reason: AdminThrottleReason) => void) | undefined;
}

/** Subjects are hashed: keys stay short and printable whatever a token's `sub` holds. */
const subjectKey = (subject: string): string => `subject:${createHash('sha256').update(subject).digest('hex').slice(0, 32)}`;

export function createAdminRateLimit(deps: AdminRateLimitDeps): AdminRateLimit {
  const { stores, logger } = deps;
  const { failed, calls } = stores;
  // One warning per key and window, so a flood of refused calls cannot flood the log.
  const warned = new LRUCache<string, true>({ max: 10_000, ttl: WINDOW_MS });

  const refuse = (reason: AdminThrottleReason, key: string, waitMs: number, message: string): never => {
    deps.onThrottled?.(reason);
    if (!warned.has(`${reason}|${key}`)) {
      warned.set(`${reason}|${key}`, true);
      logger.warn({ event: 'admin_throttled', reason, key, retryAfterSeconds: Math.ceil(waitMs / 1000) }, message);
    }
    throw new TrustgateError('TOOMANYREQUESTS', message, { headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } });
  };

  return {
    async beforeAuth(address) {
      const waitMs = await failed.blockedFor([`address:${address}`]);
      if (waitMs > 0)
        refuse('failed_auth', `address:${address}`, waitMs, 'too many failed admin authentications from this address; try again later');
    },
    async failedAuth(address) {
      await failed.failed([`address:${address}`]);
    },
    async authenticated(subject, address) {
      const keys = [subjectKey(subject), `address:${address}`];
      const waitMs = await calls.hit(keys);
      if (waitMs > 0) refuse('requests', keys.join(' '), waitMs, 'too many admin API calls; try again later');
    },
  };
}
