// Outbound webhooks (docs/notifications.md): events in, one bounded queue per endpoint, one pump
// per endpoint and replica sending what is due, retrying with backoff. Nothing here ever throws
// into its caller, a pull or an admin call: emit() queues in the background and logs its failures.
import { randomUUID } from 'node:crypto';
import type { NotificationEndpointConfig, NotificationsConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { NotificationResult } from '../metrics/metrics.ts';
import type { AddressResolver } from '../upstream/egress.ts';
import { createDenialLimit } from './denial-limit.ts';
import { contentId, payloadOf, wants, type NotificationEvent, type NotificationPayload } from './event.ts';
import type { Claimed, DeliveryQueue } from './queue.ts';
import { render } from './render.ts';
import { createSender } from './send.ts';
import { signature } from './signing.ts';

/** A denied pull as pull/report.ts reports it: public data only. */
export interface DenialNotice {
  readonly name: string;
  readonly upstream: string | undefined;
  readonly reference: string | undefined;
  readonly digest: string | undefined;
  readonly rule: string;
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
}

export interface Notifier {
  /** Queues `event` for every endpoint whose filter takes it. Never throws, never waits. */
  emit(event: NotificationEvent): void;
  /** A denied pull: notified at most once per image name and primary reason per `denials.windowMs`. */
  denied(denial: DenialNotice): void;
  /** Deliveries queued per endpoint (with Redis, every replica's). */
  depths(): Promise<Record<string, number>>;
  /** Nothing queued anywhere and nothing being sent or queued by this replica. */
  idle(): Promise<boolean>;
  start(): void;
  /** Stops the pumps; a delivery cut short stays queued (with Redis, another replica sends it when its lease ends). */
  close(): Promise<void>;
}

export interface NotifierDeps {
  readonly config: NotificationsConfig;
  readonly queue: DeliveryQueue;
  readonly logger: Logger;
  readonly now: () => number;
  /** `trustgate.instance` in payloads. */
  readonly instance: string;
  readonly resolver?: AddressResolver | undefined;
  readonly onResult?: ((endpoint: string, result: NotificationResult) => void) | undefined;
  /** How often an idle pump looks for deliveries other replicas queued (ms). */
  readonly pollMs?: number | undefined;
  readonly random?: (() => number) | undefined;
}

/** An event id is remembered this long unless the event says otherwise: a repeat within it is dropped. */
const DEFAULT_DEDUPE_MS = 86_400_000;
/** Past the send timeout, how long a claim stays this replica's before another may take it. */
const LEASE_MARGIN_MS = 30_000;
/** A repeated failure to reach the queue (Redis) or to drop an overflow is logged this often at most. */
const QUIET_MS = 60_000;

export function createNotifier(deps: NotifierDeps): Notifier {
  const { config, queue, logger, now } = deps;
  const pollMs = deps.pollMs ?? 1_000;
  const random = deps.random ?? Math.random;
  const result = (endpoint: string, r: NotificationResult): void => deps.onResult?.(endpoint, r);
  const sender = createSender({
    resolver: deps.resolver,
    allowedNetworks: config.allowedNetworks,
    connectTimeoutMs: Math.max(...config.endpoints.map((e) => e.timeoutMs)),
  });
  const denials = createDenialLimit(config.denials.windowMs, config.denials.maxKeys);
  const abort = new AbortController();
  const wakers = new Map<string, () => void>();
  const lastWarned = new Map<string, number>();
  let pumps: Promise<void>[] = [];
  let closed = false;
  let busy = 0;

  /** Logs `record` unless the same `key` was logged in the last minute. */
  const quietly = (key: string, record: object, message: string): void => {
    const at = lastWarned.get(key);
    if (at !== undefined && now() - at < QUIET_MS) return;
    lastWarned.set(key, now());
    logger.warn(record, message);
  };
  const errorCode = (error: unknown): string => {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : error instanceof Error ? error.name : 'error';
  };

  function emit(event: NotificationEvent): void {
    try {
      const targets = config.endpoints.filter((e) => wants(e.events, event.type)).map((e) => e.name);
      if (targets.length === 0 || closed) return;
      const payload = JSON.stringify(payloadOf(event, deps.instance));
      busy += 1;
      void queue
        .enqueue(event.id, payload, targets, event.dedupeMs ?? DEFAULT_DEDUPE_MS, now())
        .then(
          (dropped) => {
            if (dropped === null) return; // another replica (or this one) queued this event already
            for (const [endpoint, count] of Object.entries(dropped)) {
              for (let i = 0; i < count; i += 1) result(endpoint, 'overflow');
              if (count > 0)
                quietly(
                  `overflow ${endpoint}`,
                  { event: 'notification_dropped', endpoint, reason: 'queue_full', maxPending: config.queue.maxPending },
                  'webhook queue full: the oldest delivery was dropped',
                );
            }
            for (const endpoint of targets) wakers.get(endpoint)?.();
          },
          (error: unknown) =>
            quietly(
              'enqueue',
              { event: 'notification_enqueue_failed', type: event.type, id: event.id, error: errorCode(error) },
              'could not queue a webhook event',
            ),
        )
        .finally(() => (busy -= 1));
    } catch (error) {
      logger.error({ event: 'notification_enqueue_failed', type: event.type, error: errorCode(error) }, 'could not queue a webhook event');
    }
  }

  function denied(d: DenialNotice): void {
    try {
      const reason = d.reasons[0]?.code ?? 'none';
      const at = now();
      if (!denials.take(JSON.stringify([d.name, reason]), at)) return;
      const { windowMs } = config.denials;
      emit({
        // Replicas denying the same image for the same reason in the same window share one id (docs/notifications.md "Replicas").
        id: contentId('pull.denied', d.name, reason, Math.floor(at / windowMs)),
        type: 'pull.denied',
        time: at,
        data: {
          image: d.name,
          ...(d.reference === undefined ? {} : { reference: d.reference }),
          ...(d.digest === undefined ? {} : { digest: d.digest }),
          ...(d.upstream === undefined ? {} : { upstream: d.upstream }),
          rule: d.rule,
          reason,
          reasons: d.reasons.map((r) => ({ code: r.code, message: r.message })),
        },
        dedupeMs: windowMs,
      });
    } catch (error) {
      logger.error(
        { event: 'notification_enqueue_failed', type: 'pull.denied', error: errorCode(error) },
        'could not queue a webhook event',
      );
    }
  }

  /** Waits `ms`, or until an event is queued for `endpoint` here, or close(). */
  const rest = (endpoint: string, ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(endpoint);
        resolve();
      };
      const timer = setTimeout(done, Math.max(5, ms));
      timer.unref();
      wakers.set(endpoint, done);
    });

  async function pump(endpoint: NotificationEndpointConfig): Promise<void> {
    const leaseMs = endpoint.timeoutMs + LEASE_MARGIN_MS;
    while (!closed) {
      let claimed: Claimed | undefined;
      try {
        claimed = await queue.claim(endpoint.name, now(), leaseMs, randomUUID());
      } catch (error) {
        quietly(
          `claim ${endpoint.name}`,
          { event: 'notification_queue_failed', endpoint: endpoint.name, error: errorCode(error) },
          'could not read the webhook queue',
        );
        await rest(endpoint.name, pollMs);
        continue;
      }
      if (claimed === undefined) {
        const next = await queue.nextDue(endpoint.name).catch(() => undefined);
        await rest(endpoint.name, next === undefined ? pollMs : Math.min(pollMs, next - now()));
        continue;
      }
      busy += 1;
      try {
        await deliver(endpoint, claimed);
      } catch (error) {
        quietly(
          `deliver ${endpoint.name}`,
          { event: 'notification_queue_failed', endpoint: endpoint.name, error: errorCode(error) },
          'could not update the webhook queue',
        );
      } finally {
        busy -= 1;
      }
    }
  }

  function backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { backoffMs, maxBackoffMs } = config.queue;
    const base = Math.min(backoffMs * 2 ** Math.min(attempt - 1, 30), maxBackoffMs);
    const jittered = Math.round(base * (0.75 + random() * 0.5));
    return Math.min(Math.max(jittered, retryAfterMs ?? 0), maxBackoffMs);
  }

  async function deliver(endpoint: NotificationEndpointConfig, claimed: Claimed): Promise<void> {
    const payload = JSON.parse(claimed.payload) as NotificationPayload;
    const body = render(endpoint.format, payload);
    const timestamp = Math.floor(now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'trustgate-webhook/1',
      'x-trustgate-event': payload.type,
      'x-trustgate-delivery': payload.id,
      'x-trustgate-timestamp': String(timestamp),
    };
    if (endpoint.secret !== undefined) headers['x-trustgate-signature'] = signature(endpoint.secret.reveal(), timestamp, body);
    const outcome = await sender.send(endpoint.url.reveal(), headers, body, endpoint.timeoutMs, abort.signal);
    if (closed) return; // cut short by close(): it stays queued under its lease
    const attempt = claimed.attempts + 1;
    // The endpoint is named by its configured name only: its URL is a secret (docs/notifications.md "Secrets").
    const base = { endpoint: endpoint.name, type: payload.type, id: payload.id, attempt };
    if (outcome.kind === 'answer' && outcome.status >= 200 && outcome.status < 300) {
      await queue.done(endpoint.name, claimed);
      result(endpoint.name, 'delivered');
      logger.debug({ event: 'notification_delivered', ...base, status: outcome.status }, 'webhook delivered');
      return;
    }
    if (outcome.kind === 'refused') {
      await queue.done(endpoint.name, claimed);
      result(endpoint.name, 'refused');
      logger.error(
        { event: 'notification_refused', ...base, why: outcome.why, setting: 'notifications.allowedNetworks' },
        'webhook endpoint not reachable by policy: dropped',
      );
      return;
    }
    const retryable = outcome.kind === 'network' || outcome.status === 408 || outcome.status === 429 || outcome.status >= 500;
    const detail = outcome.kind === 'answer' ? { status: outcome.status } : { error: outcome.code };
    if (!retryable) {
      // A redirect is an answer like any other (never followed), and so is a 4xx: sending again would not change it.
      await queue.done(endpoint.name, claimed);
      result(endpoint.name, 'rejected');
      logger.warn({ event: 'notification_failed', ...base, ...detail, retry: false }, 'webhook refused by the receiver: dropped');
      return;
    }
    if (attempt >= config.queue.maxAttempts) {
      await queue.done(endpoint.name, claimed);
      result(endpoint.name, 'exhausted');
      logger.warn({ event: 'notification_failed', ...base, ...detail, retry: false }, 'webhook failed on its last attempt: dropped');
      return;
    }
    const delayMs = backoff(attempt, outcome.kind === 'answer' ? outcome.retryAfterMs : undefined);
    await queue.retry(endpoint.name, claimed, now() + delayMs);
    result(endpoint.name, 'retried');
    logger.warn({ event: 'notification_failed', ...base, ...detail, retry: true, retryInMs: delayMs }, 'webhook failed: will retry');
  }

  return {
    emit,
    denied,
    async depths() {
      const entries = await Promise.all(config.endpoints.map(async (e) => [e.name, await queue.depth(e.name)] as const));
      return Object.fromEntries(entries);
    },
    async idle() {
      if (busy > 0) return false;
      return Object.values(await this.depths()).every((d) => d === 0) && busy === 0;
    },
    start() {
      if (pumps.length > 0 || closed) return;
      pumps = config.endpoints.map((e) => pump(e));
    },
    async close() {
      closed = true;
      abort.abort();
      for (const wake of [...wakers.values()]) wake();
      await Promise.all(pumps);
      await sender.close();
    },
  };
}
