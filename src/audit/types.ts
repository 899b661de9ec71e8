/**
 * The audit log: who changed what, when, with the state before and after (docs/design.md §6). Entries are
 * append-only; the store keeps the newest `maxEntries` and every entry is also written to the log
 * output. An entry never holds a token, a password, a secret or a private key: callers describe
 * changes with public data only (a key's fingerprint, never its PEM), and `scrubAudit` redacts
 * anything that looks like a secret before an entry is stored or logged.
 */
export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditEvent {
  /** The token's subject; `(unauthenticated)` when no valid token was presented. */
  readonly actor: string;
  readonly roles: readonly string[];
  /** `<noun>.<verb>`: key.add, key.update, key.revoke, key.rotate, scan.post, audit.read… */
  readonly action: string;
  /** What the action was on: a key id, an image, or the request path. */
  readonly target: string;
  readonly outcome: AuditOutcome;
  /** Why it was denied or failed (the error message the caller got). */
  readonly message?: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly requestId?: string;
}

export interface AuditEntry extends AuditEvent {
  /** The cursor: a Redis stream id (`<ms>-<seq>`), increasing with each append. */
  readonly id: string;
  /** Epoch ms, from the appending replica's clock. */
  readonly time: number;
}

export interface AuditQuery {
  /** At most this many entries (1..1000). */
  readonly limit: number;
  /** Only entries older than this cursor (the `next` of the previous page). */
  readonly after?: string;
  readonly actor?: string;
  /** An exact action, or a prefix ending in `.*` (`key.*`). */
  readonly action?: string;
  /** An exact target (a key id, an image, a path). */
  readonly target?: string;
  readonly outcome?: AuditOutcome;
  /** Epoch ms: only entries at or after it (reading stops at the first older entry). */
  readonly since?: number;
  /** Epoch ms: only entries at or before it. */
  readonly until?: number;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: readonly AuditEntry[];
  /** Pass as `after` for the next page; absent when nothing older is left. */
  readonly next?: string;
}

export interface AuditLog {
  /** Records one event. Never rejects: a storage failure is logged, and the log output keeps the entry. */
  append(event: AuditEvent): Promise<void>;
  /** One page, newest first. Rejects with STORE_UNAVAILABLE when the store cannot be read. */
  page(query: AuditQuery): Promise<AuditPage>;
}
