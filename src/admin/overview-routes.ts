import type { Request, Response, Router } from 'express';
import type { BreakGlassStore } from '../breakglass/entries.ts';
import { TrustgateError } from '../errors/errors.ts';
import type { DecisionLog, DecisionRecord } from '../gate/decision-log.ts';
import { RECENT_DECISIONS } from '../gate/decision-log.ts';
import type { ScanStore } from '../scan-store/types.ts';
import { certificateExpiry } from '../trust/expiry.ts';
import type { TrustStore } from '../trust/types.ts';
import { breakGlassView } from './break-glass-routes.ts';
import { summarize, summaryStart } from './overview.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import { imageVisible, visibleTo } from './scope.ts';
import type { AdminIdentity, Role } from './tokens.ts';

export interface OverviewRoutesDeps {
  readonly decisions: DecisionLog;
  readonly breakGlass: BreakGlassStore;
  readonly trust: TrustStore;
  readonly scans: ScanStore;
  readonly now: () => number;
}

const READ: readonly Role[] = ['key-manager', 'auditor']; // and admin
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const REASON = /^[a-z][a-z0-9_]{0,63}$/;
/** The soonest-expiring trust entries shown, and how much of the scan queue is counted. */
const EXPIRING = 10;
const QUEUE_COUNTED = 1_000;

/**
 * GET /admin/v1/decisions/recent: the decision feed across digests, filtered, newest first.
 * GET /admin/v1/overview: what the console's Overview page shows. A caller whose reading roles
 * are all repository-scoped sees only decisions and break-glass entries of images within them.
 */
export function registerOverviewRoutes(router: Router, guarded: Guard, deps: OverviewRoutesDeps): void {
  mountRoutes(router, guarded, [
    ['get', '/decisions/recent', READ, async (req, res, who) => recent(req, res, who, deps)],
    ['get', '/overview', READ, async (_req, res, who) => overview(res, who, deps)],
  ]);
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
const recordView = (r: DecisionRecord): Record<string, unknown> => ({ ...r, time: iso(r.time), notAfter: iso(r.notAfter) });

function one(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 64)
    throw new TrustgateError('BAD_REQUEST', `"${name}" must be given once, 1 to 64 characters`);
  return value;
}

async function recent(req: Request, res: Response, who: AdminIdentity, deps: OverviewRoutesDeps): Promise<void> {
  const outcome = one(req, 'outcome');
  if (outcome !== undefined && outcome !== 'allow' && outcome !== 'deny' && outcome !== 'warn')
    throw new TrustgateError('BAD_REQUEST', '"outcome" must be "allow", "deny" or "warn"');
  const reason = one(req, 'reason');
  if (reason !== undefined && !REASON.test(reason))
    throw new TrustgateError('BAD_REQUEST', '"reason" must be a reason code such as "unsigned" or "scan_failed"');
  const sinceText = one(req, 'since');
  const since = sinceText === undefined ? undefined : RFC3339.test(sinceText) ? Date.parse(sinceText) : Number.NaN;
  if (Number.isNaN(since)) throw new TrustgateError('BAD_REQUEST', '"since" must be an RFC 3339 time such as 2026-06-01T18:00:00Z');
  const limit = Number(one(req, 'limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new TrustgateError('BAD_REQUEST', '"limit" must be a whole number from 1 to 1000');
  const visible = visibleTo(who, READ);
  const page = await deps.decisions.feed({
    limit,
    ...(outcome === undefined ? {} : { outcome }),
    ...(reason === undefined ? {} : { reason }),
    ...(since === undefined ? {} : { since }),
    ...(visible === undefined ? {} : { visible }),
  });
  res.json({ from: page.from, exhausted: page.exhausted, decisions: page.records.map(recordView) });
}

async function overview(res: Response, who: AdminIdentity, deps: OverviewRoutesDeps): Promise<void> {
  const now = deps.now();
  const visible = visibleTo(who, READ);
  const feed = await deps.decisions.feed({
    limit: RECENT_DECISIONS,
    since: summaryStart(now),
    ...(visible === undefined ? {} : { visible }),
  });
  const summary = summarize(feed.records, now);
  const breakGlass = [...deps.breakGlass.active(now)]
    .filter((e) => imageVisible(e.image, who, READ))
    .sort((a, b) => a.expires - b.expires)
    .map(breakGlassView);
  res.json({
    generatedAt: iso(now),
    decisions: {
      from: feed.from,
      records: feed.records.length,
      // False when the feed's cap was reached before 24 hours back: the oldest buckets then count only part of their pulls.
      complete: feed.exhausted && feed.records.length < RECENT_DECISIONS,
      ...summary,
    },
    trustExpiry: trustExpiry(deps.trust, now),
    breakGlass: { shared: deps.breakGlass.shared, entries: breakGlass },
    scanQueue: await scanQueue(deps.scans),
  });
}

/** The soonest ends still ahead: an entry's own notAfter, or when its certificates stop (src/trust/expiry.ts). */
function trustExpiry(trust: TrustStore, now: number): Record<string, unknown>[] {
  const snapshot = trust.snapshot();
  const revoked = new Set(snapshot.revocations.map((r) => r.id));
  return snapshot.entries
    .filter((e) => !revoked.has(e.id))
    .flatMap((entry) => {
      const certificate = certificateExpiry(entry);
      const ends = [
        ...(entry.notAfter === undefined ? [] : [{ at: entry.notAfter, by: 'window' as const, subject: undefined }]),
        ...(certificate === undefined ? [] : [{ at: certificate.notAfter, by: 'certificate' as const, subject: certificate.subject }]),
      ].filter((end) => end.at > now);
      const soonest = ends.sort((a, b) => a.at - b.at)[0];
      return soonest === undefined ? [] : [{ entry, soonest }];
    })
    .sort((a, b) => a.soonest.at - b.soonest.at || a.entry.id.localeCompare(b.entry.id))
    .slice(0, EXPIRING)
    .map(({ entry, soonest }) => ({
      id: entry.id,
      kind: entry.kind,
      notAfter: iso(soonest.at),
      by: soonest.by,
      ...(soonest.subject === undefined ? {} : { subject: soonest.subject }),
    }));
}

async function scanQueue(scans: ScanStore): Promise<Record<string, unknown>> {
  try {
    const pending = await scans.pending(QUEUE_COUNTED + 1);
    return {
      available: true,
      depth: Math.min(pending.length, QUEUE_COUNTED),
      atLeast: pending.length > QUEUE_COUNTED,
      oldestRequestedAt: iso(pending[0]?.requestedAt),
    };
  } catch {
    return { available: false };
  }
}
