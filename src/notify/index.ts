// Outbound webhooks (docs/notifications.md): the notifier, its queue where the backend keeps state,
// and the sources of its events.
import { hostname } from 'node:os';
import type { NotificationsConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { NotificationResult } from '../metrics/metrics.ts';
import type { RedisClient } from '../redis/connection.ts';
import type { AddressResolver } from '../upstream/egress.ts';
import { createNotifier, type Notifier } from './notifier.ts';
import { createMemoryQueue } from './queue.ts';
import { createRedisQueue } from './redis-queue.ts';

export { notifyingAudit } from './audit-events.ts';
export { startPeriodicChecks } from './checks.ts';
export { notifyPolicyFileReloads } from './policy-events.ts';
export type { DenialNotice, Notifier } from './notifier.ts';

export interface OpenNotifierOptions {
  /** The backend's command connection and key prefix; absent: this process's memory. */
  readonly redis?: { readonly client: RedisClient; readonly prefix: string } | undefined;
  readonly logger: Logger;
  readonly now: () => number;
  readonly resolver?: AddressResolver | undefined;
  readonly onResult?: ((endpoint: string, result: NotificationResult) => void) | undefined;
}

/** A notifier for `notifications:`, its queue in Redis when the backend is, else in memory. Not started. */
export function openNotifier(config: NotificationsConfig, options: OpenNotifierOptions): Notifier {
  const { maxPending } = config.queue;
  const queue =
    options.redis === undefined ? createMemoryQueue(maxPending) : createRedisQueue(options.redis.client, options.redis.prefix, maxPending);
  return createNotifier({
    config,
    queue,
    logger: options.logger,
    now: options.now,
    instance: config.instance ?? hostname(),
    resolver: options.resolver,
    onResult: options.onResult,
  });
}
