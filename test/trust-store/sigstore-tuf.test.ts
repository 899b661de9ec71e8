import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { createMemoryAuditLog } from '../../src/audit/memory-audit-log.ts';
import type { AuditEntry, AuditLog } from '../../src/audit/types.ts';
import type { Logger } from '../../src/log/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.ts';
import { createMemoryTrustStore, type TrustStoreSeed } from '../../src/trust-store/memory-trust-store.ts';
import { createSigstoreTufRefresher, type SigstoreTufRefresher } from '../../src/trust-store/sigstore-tuf.ts';
import type { TrustEntry, TrustStore } from '../../src/trust/types.ts';
import { makeTrustedRoot, serveRepo, tufKey, TufRepo, type RepoServer } from './sigstore-tuf-repo.ts';

// The refresh against a real TUF repository served on 127.0.0.1: tuf-js (through @sigstore/tuf)
// does every TUF check; these tests hold what trustgate does with the outcome.

const ID = 'sigstore-public';
const SCOPES = ['registry.example/**'];
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
// Made once: a CA and a log key each (the content only has to differ and parse).
const [TR1, TR2, TR3] = await Promise.all([makeTrustedRoot('one'), makeTrustedRoot('two'), makeTrustedRoot('three')]);

interface Fixture {
  readonly repo: TufRepo;
  readonly server: RepoServer;
  readonly trust: TrustStore;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  readonly refresher: SigstoreTufRefresher;
  readonly warnings: Record<string, unknown>[];
  /** The refresher's clock, in ms. */
  clock: number;
}

interface FixtureOptions {
  readonly seed?: TrustStoreSeed;
  readonly scopes?: readonly string[] | null;
  readonly intervalMs?: number;
  /** Wraps the store the refresher writes to. */
  readonly wrap?: (trust: TrustStore) => TrustStore;
  /** What the repository serves before the first refresh; default TR1. */
  readonly first?: string | null;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fixture(options: FixtureOptions = {}): Promise<Fixture> {
  const repo = new TufRepo();
  if (options.first !== null) repo.publish(options.first ?? TR1);
  const server = await serveRepo(repo);
  const dir = mkdtempSync(join(tmpdir(), 'tg-tuf-'));
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'root.json'), repo.initialRoot);
  const trust = createMemoryTrustStore(options.seed ?? {});
  const audit = createMemoryAuditLog({ maxEntries: 100 });
  const warnings: Record<string, unknown>[] = [];
  const noop = (): void => {};
  const logger: Logger = { debug: noop, info: noop, error: noop, warn: (record) => void warnings.push(record as Record<string, unknown>) };
  let refresher: SigstoreTufRefresher | undefined;
  const metrics = createMetrics({
    trust: () => ({ version: 0, active: 0, revoked: 0 }),
    policyHash: () => 'h',
    scanQueuePending: async () => 0,
    redisUp: () => undefined,
    sigstoreRoot: () => ({ root: refresher!.root, ageSeconds: refresher!.ageSeconds(), intervalSeconds: refresher!.intervalMs / 1000 }),
  });
  const f = { repo, server, trust, audit, metrics, warnings, clock: 1_000_000 } as Fixture;
  refresher = createSigstoreTufRefresher({
    root: ID,
    mirror: server.url,
    initialRoot: join(dir, 'root.json'),
    cacheDir: join(dir, 'cache'),
    intervalMs: options.intervalMs ?? 21_600_000,
    scopes: options.scopes === null ? undefined : (options.scopes ?? SCOPES),
    purposes: ['sign'],
    trust: options.wrap === undefined ? trust : options.wrap(trust),
    audit,
    logger,
    now: () => f.clock,
    onResult: (result) => metrics.sigstoreRootRefresh(result),
    fetch: { timeoutMs: 2_000, retries: 0 },
  });
  cleanups.push(() => refresher.stop());
  (f as { refresher: SigstoreTufRefresher }).refresher = refresher;
  return f;
}

/** The entry the refresh writes for `trustedRoot`, with `over` for what an existing entry kept. */
const refreshed = (trustedRoot: string, over: Partial<TrustEntry> = {}): TrustEntry => ({
  id: ID,
  kind: 'sigstore-root',
  pem: '',
  trustedRoot,
  scopes: SCOPES,
  purposes: ['sign'],
  origin: 'api',
  ...over,
});

/** The stored entries as plain data (the store freezes them). */
const entries = (trust: TrustStore): TrustEntry[] => JSON.parse(JSON.stringify(trust.snapshot().entries)) as TrustEntry[];

async function auditEntries(audit: AuditLog): Promise<AuditEntry[]> {
  return [...(await audit.page({ limit: 100 })).entries].reverse(); // oldest first
}

async function metric(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const found = metrics.registry.getSingleMetric(name);
  assert.ok(found !== undefined, name);
  const out: Record<string, number> = {};
  for (const v of (await found.get()).values) out[Object.values(v.labels).join(',')] = v.value;
  return out;
}

const refreshes = (metrics: Metrics) => metric(metrics, 'trustgate_sigstore_root_refresh_total');

const ROOT_SUMMARY = { certificateAuthorities: 1, tlogs: 1, ctlogs: 0, timestampAuthorities: 0 };

describe('sigstore-root refresh from TUF', () => {
  it('a first refresh stores the root: one version bump, one audit entry, ok counted, age from then', async () => {
    const f = await fixture();
    assert.deepEqual(await refreshes(f.metrics), { ok: 0, failed: 0, unchanged: 0 });
    f.clock += 7_000;
    assert.deepEqual(await metric(f.metrics, 'trustgate_sigstore_root_age_seconds'), { [ID]: 7 }, 'age counts from the start');

    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 1 });

    assert.equal(f.trust.snapshot().version, 1);
    assert.deepEqual(entries(f.trust), [refreshed(TR1)]);
    const [entry, ...rest] = await auditEntries(f.audit);
    assert.deepEqual(rest, []);
    assert.deepEqual(
      { ...entry, id: undefined, time: undefined },
      {
        id: undefined,
        time: undefined,
        actor: 'tuf-refresh',
        roles: [],
        action: 'key.refresh',
        target: ID,
        outcome: 'ok',
        after: {
          kind: 'sigstore-root',
          origin: 'api',
          scopes: SCOPES,
          purposes: ['sign'],
          trustedRootSha256: sha256(TR1),
          ...ROOT_SUMMARY,
          tuf: { mirror: f.server.url, rootVersion: 1, timestampVersion: 1, snapshotVersion: 1, targetsVersion: 1 },
        },
      },
    );
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 0, unchanged: 0 });
    assert.deepEqual(await metric(f.metrics, 'trustgate_sigstore_root_age_seconds'), { [ID]: 0 });
    f.clock += 90_000;
    assert.deepEqual(await metric(f.metrics, 'trustgate_sigstore_root_age_seconds'), { [ID]: 90 });
    assert.deepEqual(await metric(f.metrics, 'trustgate_sigstore_root_refresh_interval_seconds'), { [ID]: 21_600 });
    assert.deepEqual(f.warnings, []);
  });

  it('an unchanged repository is a no-op: no version bump, no audit entry, unchanged counted, age reset', async () => {
    const f = await fixture();
    await f.refresher.refreshOnce();
    f.clock += 60_000;
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'unchanged', version: 1 });
    f.repo.writeTimestamp(); // a new timestamp over the same snapshot: still the same root
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'unchanged', version: 1 });

    assert.equal(f.trust.snapshot().version, 1);
    assert.deepEqual(entries(f.trust), [refreshed(TR1)]);
    assert.equal((await auditEntries(f.audit)).length, 1);
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 0, unchanged: 2 });
    assert.deepEqual(await metric(f.metrics, 'trustgate_sigstore_root_age_seconds'), { [ID]: 0 });
    assert.equal(
      f.server.requests.filter((p) => p.startsWith('targets/')).length,
      1,
      'the target is downloaded once, then read from the cache',
    );
  });

  it('a new trusted root is picked up; an existing entry keeps its scopes, purposes and window, and keys/ no longer overwrites it', async () => {
    const TR0 = await makeTrustedRoot('zero');
    const fromFile: TrustEntry = {
      id: ID,
      kind: 'sigstore-root',
      pem: '',
      trustedRoot: TR0,
      scopes: ['ghcr.io/org/**'],
      purposes: ['sign', 'scan'],
      notAfter: Date.parse('2098-01-01T00:00:00Z'),
      origin: 'file',
    };
    const f = await fixture();
    await f.trust.upsertFromFiles([fromFile]);
    assert.equal(f.trust.snapshot().version, 1);
    const kept = { scopes: ['ghcr.io/org/**'], purposes: ['sign', 'scan'] as TrustEntry['purposes'], notAfter: fromFile.notAfter };

    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 2 });
    assert.deepEqual(entries(f.trust), [refreshed(TR1, kept)]);

    f.repo.publish(TR2);
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 3 });
    assert.deepEqual(entries(f.trust), [refreshed(TR2, kept)]);

    const [first, second] = await auditEntries(f.audit);
    const view = {
      kind: 'sigstore-root',
      scopes: kept.scopes,
      purposes: kept.purposes,
      notAfter: '2098-01-01T00:00:00.000Z',
      ...ROOT_SUMMARY,
    };
    assert.deepEqual(first!.before, { ...view, origin: 'file', trustedRootSha256: sha256(TR0) });
    assert.deepEqual(second!.before, { ...view, origin: 'api', trustedRootSha256: sha256(TR1) });
    assert.deepEqual(second!.after, {
      ...view,
      origin: 'api',
      trustedRootSha256: sha256(TR2),
      tuf: { mirror: f.server.url, rootVersion: 1, timestampVersion: 2, snapshotVersion: 2, targetsVersion: 2 },
    });

    await f.trust.upsertFromFiles([fromFile]); // a reload of keys/ with the old root
    assert.equal(f.trust.snapshot().version, 3);
    assert.deepEqual(entries(f.trust), [refreshed(TR2, kept)]);
    assert.deepEqual(await refreshes(f.metrics), { ok: 2, failed: 0, unchanged: 0 });
  });

  it('a refresh that cannot reach the repository keeps the last good root, logs why and counts failed; it recovers', async () => {
    const f = await fixture();
    await f.refresher.refreshOnce();
    await f.server.stop();
    f.repo.publish(TR2);
    f.clock += 30_000;

    const outcome = await f.refresher.refreshOnce();
    assert.equal(outcome.result, 'failed');
    assert.equal(outcome.version, 1);
    assert.match(outcome.reason!, /^TUF: .*ECONNREFUSED/);
    assert.equal(f.trust.snapshot().version, 1);
    assert.deepEqual(entries(f.trust), [refreshed(TR1)]);
    assert.equal((await auditEntries(f.audit)).length, 1);
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 1, unchanged: 0 });
    assert.deepEqual(await metric(f.metrics, 'trustgate_sigstore_root_age_seconds'), { [ID]: 30 }, 'a failure does not reset the age');
    assert.deepEqual(f.warnings, [{ event: 'sigstore_root_refresh_failed', root: ID, mirror: f.server.url, reason: outcome.reason }]);

    await f.server.start();
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 2 });
    assert.deepEqual(entries(f.trust), [refreshed(TR2)]);
  });

  it('metadata with a bad signature, expired metadata, or a target that does not match its hash is refused', async () => {
    const f = await fixture();
    await f.refresher.refreshOnce();
    const good = f.repo.state();
    const cases: [string, () => void, RegExp][] = [
      [
        'a timestamp signed by another key',
        () => f.repo.publish(TR2, { timestampSigners: [tufKey()] }),
        /timestamp was signed by 0\/1 keys/,
      ],
      ['an expired timestamp', () => f.repo.publish(TR2, { timestampExpires: '2020-01-01T00:00:00Z' }), /timestamp\.json is expired/],
      [
        'a target swapped for another of the same length',
        () => {
          f.repo.publish(TR2);
          f.repo.files.set(`targets/${sha256(TR2)}.trusted_root.json`, Buffer.from(TR2.replaceAll('two', 'owt')));
        },
        /Expected hash [0-9a-f]{64} but got [0-9a-f]{64}/,
      ],
    ];
    for (const [what, tamper, reason] of cases) {
      f.repo.restore(good);
      tamper();
      const outcome = await f.refresher.refreshOnce();
      assert.equal(outcome.result, 'failed', what);
      assert.match(outcome.reason!, reason, what);
      assert.equal(f.trust.snapshot().version, 1, what);
      assert.deepEqual(entries(f.trust), [refreshed(TR1)], what);
    }
    assert.equal((await auditEntries(f.audit)).length, 1);
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 3, unchanged: 0 });
  });

  it('a rollback to older, validly signed timestamp or snapshot metadata is refused, keeping the last good root', async () => {
    const f = await fixture();
    assert.equal((await f.refresher.refreshOnce()).result, 'ok');
    const v1 = f.repo.state();
    f.repo.publish(TR2);
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 2 });
    const v2 = f.repo.state();

    f.repo.restore(v1); // the whole repository as it was: timestamp 1, snapshot 1, targets 1, TR1
    const timestampRollback = await f.refresher.refreshOnce();
    assert.equal(timestampRollback.result, 'failed');
    assert.match(timestampRollback.reason!, /New timestamp version 1 is less than current version 2/);

    f.repo.restore(v2);
    f.repo.writeTimestamp({ snapshotVersion: 1 }); // a newer timestamp naming the older snapshot (and so TR1)
    const snapshotRollback = await f.refresher.refreshOnce();
    assert.equal(snapshotRollback.result, 'failed');
    assert.match(snapshotRollback.reason!, /New snapshot version 1 is less than current version 2/);

    assert.equal(f.trust.snapshot().version, 2);
    assert.deepEqual(entries(f.trust), [refreshed(TR2)]);
    assert.equal((await auditEntries(f.audit)).length, 2);
    assert.deepEqual(await refreshes(f.metrics), { ok: 2, failed: 2, unchanged: 0 });
  });

  it('a root rotation signed by the old root is followed; one signed only by the new keys is refused', async () => {
    const f = await fixture();
    await f.refresher.refreshOnce();
    f.repo.rotateRoot(['root', 'timestamp']);
    f.repo.publish(TR2); // its timestamp is signed by the new timestamp key only
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 2 });
    assert.deepEqual(entries(f.trust), [refreshed(TR2)]);
    assert.deepEqual((await auditEntries(f.audit))[1]!.after, {
      ...refreshedView(TR2),
      tuf: { mirror: f.server.url, rootVersion: 2, timestampVersion: 2, snapshotVersion: 2, targetsVersion: 2 },
    });

    f.repo.rotateRoot(['root', 'targets'], { oldSigns: false });
    f.repo.publish(TR3);
    const outcome = await f.refresher.refreshOnce();
    assert.equal(outcome.result, 'failed');
    assert.match(outcome.reason!, /root was signed by 0\/1 keys/);
    assert.deepEqual(entries(f.trust), [refreshed(TR2)]);
  });

  it('a trusted_root.json that is validly signed but not a usable trusted root is refused', async () => {
    const f = await fixture();
    await f.refresher.refreshOnce();
    f.repo.publish(
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [] }),
    );
    const outcome = await f.refresher.refreshOnce();
    assert.deepEqual(outcome, {
      result: 'failed',
      reason:
        'the trusted_root.json target is not a usable trusted root: trustedRoot lists no certificate authority and no transparency log',
      version: 1,
    });
    f.repo.publish('{"mediaType": "application/json"}');
    assert.match((await f.refresher.refreshOnce()).reason!, /trustedRoot\.mediaType/);
    assert.deepEqual(entries(f.trust), [refreshed(TR1)]);
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 2, unchanged: 0 });
  });

  it('a revoked id is never re-added, nor updated, and the repository is not even asked', async () => {
    const f = await fixture();
    await f.refresher.refreshOnce();
    await f.trust.revoke(ID, 'compromised', 5);
    f.repo.publish(TR2);
    const asked = f.server.requests.length;

    const outcome = await f.refresher.refreshOnce();
    assert.deepEqual(outcome, {
      result: 'failed',
      reason: `"${ID}" is revoked; revocations are final, so it is never refreshed`,
      version: 2,
    });
    assert.equal(f.server.requests.length, asked);
    assert.equal(f.trust.snapshot().version, 2);
    assert.deepEqual(entries(f.trust), [refreshed(TR1)], 'the tombstoned entry is kept as it was');
    assert.deepEqual(f.trust.snapshot().revocations, [{ id: ID, revokedAt: 5, reason: 'compromised' }]);
    assert.equal((await auditEntries(f.audit)).length, 1);
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 1, unchanged: 0 });
  });

  it('a revoked id with no entry is never created', async () => {
    const f = await fixture({ seed: { revocations: [{ id: ID, revokedAt: 1, reason: 'retired' }] } });
    assert.equal((await f.refresher.refreshOnce()).result, 'failed');
    assert.deepEqual(entries(f.trust), []);
    assert.equal(f.trust.snapshot().version, 0);
    assert.deepEqual(await auditEntries(f.audit), []);
  });

  it('a revocation that lands while TUF runs wins: nothing is written or audited', async () => {
    const f = await fixture({
      wrap: (trust) => ({
        ...trust,
        upsert: async (list) => {
          await trust.revoke(ID, 'revoked meanwhile', 9);
          return trust.upsert(list);
        },
      }),
    });
    const outcome = await f.refresher.refreshOnce();
    assert.deepEqual(outcome, {
      result: 'failed',
      reason: `"${ID}" was revoked meanwhile; revocations are final, so it is never refreshed`,
      version: 1,
    });
    assert.deepEqual(entries(f.trust), []);
    assert.deepEqual(await auditEntries(f.audit), []);
  });

  it('an entry of another kind, a PEM sigstore-root, or no entry and no configured scopes: nothing is written', async () => {
    const key: TrustEntry = { id: ID, kind: 'key', pem: 'PEM', scopes: ['**'], purposes: ['sign'], origin: 'file' };
    const byo: TrustEntry = { ...key, kind: 'sigstore-root', pem: '-----BEGIN CERTIFICATE-----' };
    for (const [seed, reason] of [
      [key, `trust entry "${ID}" is a key, not a sigstore-root: it is not replaced`],
      [byo, `trust entry "${ID}" holds PEM certificates (bring-your-own PKI), not a trusted root: it is not replaced`],
    ] as const) {
      const f = await fixture({ seed: { entries: [seed] } });
      assert.deepEqual(await f.refresher.refreshOnce(), { result: 'failed', reason, version: 0 });
      assert.deepEqual(entries(f.trust), [seed]);
    }
    const f = await fixture({ scopes: null });
    assert.deepEqual(await f.refresher.refreshOnce(), {
      result: 'failed',
      reason: `there is no trust entry "${ID}" to update, and trust.sigstoreTuf.scopes is not set to create it`,
      version: 0,
    });
    assert.deepEqual(entries(f.trust), []);
  });

  it('a trust store that refuses the write (Redis down) is a failure; the next refresh tries again', async () => {
    let down = true;
    const f = await fixture({
      wrap: (trust) => ({
        ...trust,
        upsert: async (list) => {
          if (down) throw new Error('the trust store is unavailable for upsert');
          return trust.upsert(list);
        },
      }),
    });
    assert.deepEqual(await f.refresher.refreshOnce(), {
      result: 'failed',
      reason: 'the trust store refused the update: the trust store is unavailable for upsert',
      version: 0,
    });
    down = false;
    assert.deepEqual(await f.refresher.refreshOnce(), { result: 'ok', version: 1 });
    assert.equal((await auditEntries(f.audit)).length, 1);
  });

  it('concurrent calls share one refresh', async () => {
    const f = await fixture();
    const [a, b] = await Promise.all([f.refresher.refreshOnce(), f.refresher.refreshOnce()]);
    assert.equal(a, b);
    assert.deepEqual(await refreshes(f.metrics), { ok: 1, failed: 0, unchanged: 0 });
  });

  it('the loop refreshes at once, then every interval, until stopped', async () => {
    const f = await fixture({ intervalMs: 40 });
    f.refresher.start();
    f.refresher.start(); // a second start changes nothing
    for (let i = 0; i < 100 && (await refreshes(f.metrics))['unchanged']! < 2; i += 1) await sleep(20);
    await f.refresher.stop();
    const counts = await refreshes(f.metrics);
    assert.equal(counts['ok'], 1);
    assert.ok(counts['unchanged']! >= 2, JSON.stringify(counts));
    await sleep(150);
    assert.deepEqual(await refreshes(f.metrics), counts, 'no refresh after stop');
    assert.deepEqual(entries(f.trust), [refreshed(TR1)]);
  });

  it('without trust.sigstoreTuf the metrics have no series', async () => {
    const metrics = createMetrics({
      trust: () => ({ version: 0, active: 0, revoked: 0 }),
      policyHash: () => 'h',
      scanQueuePending: async () => 0,
      redisUp: () => undefined,
    });
    assert.deepEqual(await refreshes(metrics), {});
    assert.deepEqual(await metric(metrics, 'trustgate_sigstore_root_age_seconds'), {});
    assert.deepEqual(await metric(metrics, 'trustgate_sigstore_root_refresh_interval_seconds'), {});
  });
});

function refreshedView(trustedRoot: string): Record<string, unknown> {
  return {
    kind: 'sigstore-root',
    origin: 'api',
    scopes: SCOPES,
    purposes: ['sign'],
    trustedRootSha256: sha256(trustedRoot),
    ...ROOT_SUMMARY,
  };
}
