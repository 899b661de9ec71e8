// What a webhook carries (docs/notifications.md "Payload"): one event, public data only.
import { createHash, randomUUID } from 'node:crypto';
import type { NotificationType } from '../config/types.ts';

export type { NotificationType };

/** One thing that happened, before it is queued for each endpoint that wants it. */
export interface NotificationEvent {
  /**
   * The delivery id receivers dedupe on. Random for what one replica alone sees (an admin call);
   * a hash of the content for what every replica may see (`contentId`), so Redis keeps one.
   */
  readonly id: string;
  readonly type: NotificationType;
  /** Epoch ms. */
  readonly time: number;
  /** Public data only: names, digests, ids, reasons; never a token, secret or key material. */
  readonly data: Readonly<Record<string, unknown>>;
  /** How long the id is remembered to drop a repeat (ms); the notifier's default when absent. */
  readonly dedupeMs?: number;
}

/** The generic body: what is signed and what Slack and Teams bodies are rendered from. */
export interface NotificationPayload {
  readonly id: string;
  readonly type: NotificationType;
  readonly time: string;
  readonly trustgate: { readonly instance: string };
  readonly data: Readonly<Record<string, unknown>>;
}

export const randomId = (): string => randomUUID();

/** The same id on every replica for the same parts: 32 hex digits of SHA-256 over them. */
export function contentId(...parts: readonly (string | number)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export function payloadOf(event: NotificationEvent, instance: string): NotificationPayload {
  return { id: event.id, type: event.type, time: new Date(event.time).toISOString(), trustgate: { instance }, data: event.data };
}

/** Whether an endpoint's `events` filter (types, `<group>.*`, `*`; config/schema.ts checked them) takes `type`. */
export function wants(filters: readonly string[], type: NotificationType): boolean {
  return filters.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}
