import type { Logger } from '../log/logger.ts';
import type { BlobStoreEvents, BypassReason } from './types.ts';

/** At most one warn line per reason this often; the rest are counted into the next line. */
export const FAULT_LOG_INTERVAL_MS = 10_000;
/** After a disk fault, fills are not attempted for this long, so a full disk is not hammered. */
export const FAULT_BACKOFF_MS = 5_000;

/** A disk error as a bypass reason: full, read-only (or not ours to write), anything else. */
export function classifyDiskError(error: unknown): BypassReason {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'read_only';
  return 'io_error';
}

/** A warn line at most once per key per interval; the lines held back are counted into the next one. */
export class LogThrottle {
  private readonly loggedAt = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {}

  warn(key: string, record: object, message: string): void {
    const at = this.now();
    const last = this.loggedAt.get(key);
    if (last !== undefined && at - last < this.intervalMs) {
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return;
    }
    this.loggedAt.set(key, at);
    const suppressed = this.suppressed.get(key) ?? 0;
    this.suppressed.delete(key);
    this.logger.warn({ ...record, suppressed }, message);
  }
}

/**
 * Counts and logs bypasses (throttled per reason), and holds the back-off after a disk fault. No
 * timers: it compares the store's clock with the last fault, so nothing keeps the process alive.
 */
export class DiskFaults {
  private backoffUntil = -Infinity;
  private lastReason: BypassReason = 'io_error';
  private readonly log: LogThrottle;

  constructor(
    logger: Logger,
    private readonly events: BlobStoreEvents,
    private readonly now: () => number,
  ) {
    this.log = new LogThrottle(logger, now, FAULT_LOG_INTERVAL_MS);
  }

  /** A disk error in a fill (or creating one): counted as a bypass, logged (throttled), and starts the back-off. */
  fault(error: unknown, digest: string): BypassReason {
    const reason = classifyDiskError(error);
    this.lastReason = reason;
    this.backoffUntil = this.now() + FAULT_BACKOFF_MS;
    const code = (error as { code?: unknown } | null)?.code;
    this.bypass(reason, { digest, code: typeof code === 'string' ? code : undefined });
    return reason;
  }

  /** Whether fills are skipped right now (within the back-off after a fault); a skipped fill is counted as a bypass. */
  backingOff(digest: string): boolean {
    if (this.now() >= this.backoffUntil) return false;
    this.bypass(this.lastReason, { digest, backoff: true });
    return true;
  }

  private bypass(reason: BypassReason, record: object): void {
    this.events.bypassed(reason);
    this.log.warn(reason, { ...record, reason }, 'blob cache bypassed: the disk refused a write');
  }
}
