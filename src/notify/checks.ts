// The periodic checks every replica runs (docs/notifications.md "Events"): trust entries near their
// end, and a scan queue nobody answers. Their events carry ids made from content, so the replicas
// that all see the same thing queue it once (the queue's dedupe).
import { certificateExpiry } from '../trust/expiry.ts';
import type { TrustStore } from '../trust/types.ts';
import type { ScanStore } from '../scan-store/types.ts';
import type { Logger } from '../log/logger.ts';
import { contentId } from './event.ts';
import type { Notifier } from './notifier.ts';

const DAY_MS = 86_400_000;

export interface ExpiryCheckDeps {
  readonly trust: Pick<TrustStore, 'snapshot'>;
  readonly notifier: Pick<Notifier, 'emit'>;
  /** `notifications.keyExpiry.warnDays`: each entry is warned once per threshold it crosses. */
  readonly warnDays: readonly number[];
  readonly now: () => number;
}

/**
 * Active entries whose own `notAfter`, or whose certificates' end (trust/expiry.ts), is within the
 * largest threshold: one `key.expiring` per entry, end and the smallest threshold reached.
 */
export function checkExpiring(deps: ExpiryCheckDeps): void {
  const now = deps.now();
  const snapshot = deps.trust.snapshot();
  const revoked = new Set(snapshot.revocations.map((r) => r.id));
  const days = [...deps.warnDays].sort((a, b) => a - b);
  for (const entry of snapshot.entries) {
    if (revoked.has(entry.id)) continue;
    const certificate = certificateExpiry(entry);
    const ends = Math.min(entry.notAfter ?? Infinity, certificate?.notAfter ?? Infinity);
    if (!Number.isFinite(ends) || ends <= now) continue;
    const left = ends - now;
    const threshold = days.find((d) => left <= d * DAY_MS);
    if (threshold === undefined) continue;
    const byCertificate = certificate !== undefined && certificate.notAfter === ends;
    deps.notifier.emit({
      id: contentId('key.expiring', entry.id, ends, threshold),
      type: 'key.expiring',
      time: now,
      data: {
        id: entry.id,
        kind: entry.kind,
        expires: new Date(ends).toISOString(),
        daysLeft: Math.floor(left / DAY_MS),
        warnDays: threshold,
        ends: byCertificate ? 'certificate' : 'notAfter',
        ...(byCertificate ? { subject: certificate.subject } : {}),
      },
      // Remembered until the end, so a restart inside the threshold does not warn again.
      dedupeMs: left + DAY_MS,
    });
  }
}

export interface StallCheckDeps {
  readonly scans: Pick<ScanStore, 'pending' | 'onPosted'>;
  readonly notifier: Pick<Notifier, 'emit'>;
  /** `notifications.scanStall.afterMs`. */
  readonly afterMs: number;
  readonly now: () => number;
}

export interface StallCheck {
  check(): Promise<void>;
  stop(): void;
}

/**
 * "Stalled": digests are pending, and none was scanned for `afterMs` (since the last post this
 * replica heard of, or its start) while the oldest waited. One event per oldest pending request:
 * the same on every replica, since the queue is shared.
 */
export function scanStallCheck(deps: StallCheckDeps): StallCheck {
  let lastPosted = deps.now();
  const stop = deps.scans.onPosted(() => {
    lastPosted = deps.now();
  });
  return {
    async check() {
      const now = deps.now();
      const pending = await deps.scans.pending(1000);
      const oldest = pending[0];
      if (oldest === undefined) return;
      const since = Math.max(lastPosted, oldest.requestedAt);
      if (now - since < deps.afterMs) return;
      deps.notifier.emit({
        id: contentId('scans.stalled', oldest.digest, oldest.requestedAt),
        type: 'scans.stalled',
        time: now,
        data: {
          pending: pending.length,
          oldestDigest: oldest.digest,
          oldestImage: oldest.canonicalName,
          oldestQueuedAt: new Date(oldest.requestedAt).toISOString(),
          noScanSince: new Date(since).toISOString(),
        },
        dedupeMs: 7 * DAY_MS,
      });
    },
    stop,
  };
}

export interface PeriodicChecksDeps {
  readonly expiry: ExpiryCheckDeps;
  readonly stall: StallCheckDeps;
  readonly expiryIntervalMs: number;
  readonly stallIntervalMs: number;
  readonly logger: Logger;
}

/** Runs both checks on their intervals; returns stop. */
export function startPeriodicChecks(deps: PeriodicChecksDeps): () => void {
  const stall = scanStallCheck(deps.stall);
  const guard = (name: string, run: () => unknown) => async () => {
    try {
      await run();
    } catch (error) {
      deps.logger.warn({ event: 'notification_check_failed', check: name, error: (error as Error).name }, 'a notification check failed');
    }
  };
  const timers = [
    setInterval(
      guard('key.expiring', () => checkExpiring(deps.expiry)),
      deps.expiryIntervalMs,
    ),
    setInterval(
      guard('scans.stalled', () => stall.check()),
      deps.stallIntervalMs,
    ),
  ];
  // Once soon after start too: a restart must not hold a warning back for a whole interval.
  const first = setTimeout(
    guard('key.expiring', () => checkExpiring(deps.expiry)),
    1_000,
  );
  for (const timer of [...timers, first]) timer.unref();
  return () => {
    clearTimeout(first);
    for (const timer of timers) clearInterval(timer);
    stall.stop();
  };
}
