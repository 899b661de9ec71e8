// Keeps one `sigstore-root` trust entry up to date from a TUF repository's `trusted_root.json`
// target (docs/tuf-refresh.md). Off unless `trust.sigstoreTuf` is configured. tuf-js (through
// @sigstore/tuf) walks root rotations from the pinned root, and refuses expired metadata, bad
// signatures and rollbacks of the timestamp, snapshot and targets versions it has already seen
// (they persist in the cache directory). A failed refresh changes nothing: the last good root stays.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initTUF } from '@sigstore/tuf';
import type { AuditLog } from '../audit/types.ts';
import type { Logger } from '../log/logger.ts';
import type { SigstoreRootRefreshResult } from '../metrics/metrics.ts';
import { parseTrustedRoot } from '../trust/sigstore-root.ts';
import { normalizeEntry } from '../trust/trust-snapshot.ts';
import type { SigstoreTufConfig } from '../config/types.ts';
import type { TrustEntry, TrustSnapshot, TrustStore } from '../trust/types.ts';

/** The TUF target a sigstore TUF repository serves the trusted root as. */
const TRUSTED_ROOT_TARGET = 'trusted_root.json';
/** Who the audit log names for a refresh; no token is involved. */
const TUF_REFRESH_ACTOR = 'tuf-refresh';
const TUF_REFRESH_ACTION = 'key.refresh';
/** @sigstore/tuf's own defaults: 5 s per request, 2 retries. */
const FETCH_DEFAULTS = { timeoutMs: 5_000, retries: 2 };
/** A failure reason in logs and outcomes is cut to this many characters. */
const MAX_REASON = 500;

/** The configured refresh (config/types.ts `SigstoreTufConfig`, paths absolute) and what it writes to. */
export interface SigstoreTufOptions extends SigstoreTufConfig {
  readonly trust: TrustStore;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called once per refresh with how it ended (the metrics counter). */
  readonly onResult?: (result: SigstoreRootRefreshResult) => void;
  /** Per-request timeout and retries of the TUF client (tests shorten them). */
  readonly fetch?: { readonly timeoutMs: number; readonly retries: number };
}

export interface RefreshOutcome {
  readonly result: SigstoreRootRefreshResult;
  /** Why it failed (never a secret), for `failed`. */
  readonly reason?: string;
  /** The trust-store version after the refresh. */
  readonly version: number;
}

export interface SigstoreTufRefresher {
  readonly root: string;
  readonly intervalMs: number;
  /** One refresh; never rejects. A call while one runs joins it. */
  refreshOnce(): Promise<RefreshOutcome>;
  /** Refreshes now, then every intervalMs after each refresh ends. */
  start(): void;
  /** Stops the loop and waits for a refresh in flight. */
  stop(): Promise<void>;
  /** Seconds since the last good refresh (`ok` or `unchanged`), or since this refresher was made. */
  ageSeconds(): number;
}

/** A refresh that fails: the store is left as it is. */
class RefreshFailed extends Error {}

export function createSigstoreTufRefresher(options: SigstoreTufOptions): SigstoreTufRefresher {
  const { root: id, trust, audit, logger } = options;
  const now = options.now ?? Date.now;
  const fetch = options.fetch ?? FETCH_DEFAULTS;
  let lastGoodAt = now();
  let inflight: Promise<RefreshOutcome> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  /** The trusted_root.json text, verified by TUF. */
  async function fetchTrustedRoot(): Promise<string> {
    const tuf = await initTUF({
      mirrorURL: options.mirror,
      rootPath: options.initialRoot,
      cachePath: options.cacheDir,
      forceCache: false,
      forceInit: false,
      timeout: fetch.timeoutMs,
      retry: { retries: fetch.retries },
    });
    return tuf.getTarget(TRUSTED_ROOT_TARGET);
  }

  function revoked(snapshot: TrustSnapshot): boolean {
    return snapshot.revocations.some((r) => r.id === id);
  }

  async function refresh(): Promise<{ result: 'ok' | 'unchanged'; version: number }> {
    if (revoked(trust.snapshot())) throw new RefreshFailed(`"${id}" is revoked; revocations are final, so it is never refreshed`);
    let text: string;
    try {
      text = await fetchTrustedRoot();
    } catch (error) {
      throw new RefreshFailed(`TUF: ${describe(error)}`);
    }
    try {
      parseTrustedRoot(text);
    } catch (error) {
      throw new RefreshFailed(`the ${TRUSTED_ROOT_TARGET} target is not a usable trusted root: ${(error as Error).message}`);
    }
    const snapshot = trust.snapshot(); // read again: the store may have changed while TUF ran
    if (revoked(snapshot)) throw new RefreshFailed(`"${id}" is revoked; revocations are final, so it is never refreshed`);
    const existing = snapshot.entries.find((e) => e.id === id);
    if (existing !== undefined && existing.kind !== 'sigstore-root') {
      throw new RefreshFailed(`trust entry "${id}" is a ${existing.kind}, not a sigstore-root: it is not replaced`);
    }
    if (existing !== undefined && existing.trustedRoot === undefined) {
      throw new RefreshFailed(`trust entry "${id}" holds PEM certificates (bring-your-own PKI), not a trusted root: it is not replaced`);
    }
    if (existing?.trustedRoot === text) return { result: 'unchanged', version: snapshot.version };
    const scopes = existing?.scopes ?? options.scopes;
    if (scopes === undefined) {
      throw new RefreshFailed(`there is no trust entry "${id}" to update, and trust.sigstoreTuf.scopes is not set to create it`);
    }
    const entry: TrustEntry = normalizeEntry({
      id,
      kind: 'sigstore-root',
      pem: '',
      trustedRoot: text,
      scopes,
      purposes: existing?.purposes ?? options.purposes,
      ...(existing?.notBefore === undefined ? {} : { notBefore: existing.notBefore }),
      ...(existing?.notAfter === undefined ? {} : { notAfter: existing.notAfter }),
      origin: 'api', // a reload of keys/ never puts an older root back (TrustStore.upsertFromFiles)
    });
    let after: TrustSnapshot;
    try {
      after = await trust.upsert([entry]);
    } catch (error) {
      throw new RefreshFailed(`the trust store refused the update: ${describe(error)}`);
    }
    if (revoked(after)) throw new RefreshFailed(`"${id}" was revoked meanwhile; revocations are final, so it is never refreshed`);
    const stored = after.entries.find((e) => e.id === id);
    if (stored === undefined || JSON.stringify(stored) !== JSON.stringify(entry)) {
      throw new RefreshFailed(`trust entry "${id}" was changed meanwhile; it is refreshed again at the next interval`);
    }
    await audit.append({
      actor: TUF_REFRESH_ACTOR,
      roles: [],
      action: TUF_REFRESH_ACTION,
      target: id,
      outcome: 'ok',
      ...(existing === undefined ? {} : { before: entryView(existing) }),
      after: { ...entryView(entry), tuf: tufView(options.mirror, options.cacheDir) },
    });
    return { result: 'ok', version: after.version };
  }

  async function run(): Promise<RefreshOutcome> {
    let outcome: RefreshOutcome;
    try {
      const { result, version } = await refresh();
      lastGoodAt = now();
      outcome = { result, version };
      if (result === 'ok') {
        logger.info({ event: 'sigstore_root_refreshed', root: id, version, mirror: options.mirror }, 'sigstore-root updated from TUF');
      } else logger.debug({ event: 'sigstore_root_unchanged', root: id, mirror: options.mirror }, 'sigstore-root unchanged in TUF');
    } catch (error) {
      const reason = error instanceof RefreshFailed ? error.message : `unexpected: ${describe(error)}`;
      outcome = { result: 'failed', reason: reason.slice(0, MAX_REASON), version: trust.snapshot().version };
      logger.warn(
        { event: 'sigstore_root_refresh_failed', root: id, mirror: options.mirror, reason: outcome.reason },
        'sigstore-root refresh from TUF failed; keeping the last good root',
      );
    }
    options.onResult?.(outcome.result);
    return outcome;
  }

  function refreshOnce(): Promise<RefreshOutcome> {
    inflight ??= run().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      timer = undefined;
      void refreshOnce().then(() => {
        if (running) schedule(options.intervalMs);
      });
    }, delayMs);
    timer.unref();
  }

  return {
    root: id,
    intervalMs: options.intervalMs,
    refreshOnce,
    start() {
      if (running) return;
      running = true;
      logger.info(
        { event: 'sigstore_root_refresh_on', root: id, mirror: options.mirror, intervalMs: options.intervalMs },
        'refreshing the sigstore-root from TUF',
      );
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await inflight;
    },
    ageSeconds: () => Math.max(0, (now() - lastGoodAt) / 1000),
  };
}

/** An error's message with its causes (TUFError wraps tuf-js's), on one line. */
function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth += 1) {
    const message = current instanceof Error ? current.message : String(current);
    if (message !== '' && !parts.includes(message)) parts.push(message);
    current = current instanceof Error ? (current as { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ').replace(/\s+/g, ' ');
}

/** What the audit log records of an entry: public data, the trusted root by digest and counts (never the text). */
function entryView(entry: TrustEntry): Record<string, unknown> {
  return {
    kind: entry.kind,
    origin: entry.origin,
    scopes: entry.scopes,
    purposes: entry.purposes,
    ...(entry.notBefore === undefined ? {} : { notBefore: new Date(entry.notBefore).toISOString() }),
    ...(entry.notAfter === undefined ? {} : { notAfter: new Date(entry.notAfter).toISOString() }),
    ...(entry.trustedRoot === undefined ? {} : trustedRootView(entry.trustedRoot)),
  };
}

function trustedRootView(text: string): Record<string, unknown> {
  const view: Record<string, unknown> = { trustedRootSha256: createHash('sha256').update(text).digest('hex') };
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    for (const key of ['certificateAuthorities', 'tlogs', 'ctlogs', 'timestampAuthorities']) {
      const list = json[key];
      view[key] = Array.isArray(list) ? list.length : 0;
    }
  } catch {
    // a digest is enough for an entry that does not parse
  }
  return view;
}

/**
 * The versions of the TUF metadata the refresh trusted, read back from the cache (as @sigstore/tuf
 * lays it out: one directory per mirror). Best effort: absent when unreadable.
 */
function tufView(mirror: string, cacheDir: string): Record<string, unknown> {
  const url = new URL(mirror);
  const dir = join(cacheDir, encodeURIComponent(url.host + url.pathname.replace(/\/$/, '')));
  const view: Record<string, unknown> = { mirror };
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
    try {
      const version = (JSON.parse(readFileSync(join(dir, `${role}.json`), 'utf8')) as { signed?: { version?: unknown } }).signed?.version;
      if (typeof version === 'number') view[`${role}Version`] = version;
    } catch {
      // left out
    }
  }
  return view;
}
