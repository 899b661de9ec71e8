import { noopLogger, type Logger } from '../log/logger.ts';
import { connectRedis, type RedisClient } from '../redis/connection.ts';
import { followerFor, type FollowVia } from '../redis/follower.ts';
import { createFailureLog } from '../redis/throttled-log.ts';
import { createListeners } from '../log/listeners.ts';
import {
  decodeState,
  LOAD,
  MERGE,
  mergeArgs,
  REVOKE,
  revokeArgs,
  UPSERT,
  UPSERT_FILES,
  upsertArgs,
  type Loaded,
} from './redis-trust-scripts.ts';
import { trustKeys } from './redis-trust-keys.ts';
import { trustStoreClosed, trustStoreUnavailable } from '../trust/trust-errors.ts';
import { apiKeptMessage, checkFileEntries, checkRevoke, makeSnapshot, normalizeEntry } from '../trust/trust-snapshot.ts';
import { createTrustSync, type StoreCounts } from './redis-trust-sync.ts';
import type { TrustSnapshot, TrustStore } from '../trust/types.ts';

export interface RedisTrustStoreOptions extends FollowVia {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
  /** Wall clock in ms: the floor for a version re-created after Redis lost data. */
  readonly now?: () => number;
  /**
   * Safety net for lost messages: re-read the version (one GET) this often. It bounds how late a
   * change reaches a replica whose subscription stopped delivering while its connection stayed up,
   * so it is well under the second the README promises. 0 disables. Default TRUST_POLL_MS.
   */
  readonly pollIntervalMs?: number;
  /** How long to wait for both connections at start. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

/**
 * The trust store Redis holds, read once (the LOAD script: GET and HGETALL only) without writing,
 * merging or subscribing: for the commands that check a deployment from its config
 * (`trustgate policy check --config`, `trustgate doctor`), which must change nothing.
 */
export async function readRedisTrust(redis: RedisClient, prefix: string): Promise<TrustSnapshot> {
  const { keys, channel } = trustKeys(redis, prefix);
  const loaded = decodeState(await redis.eval(LOAD, keys.length, ...keys, channel, '0', '0'));
  return loaded.snapshot;
}

/** How often each replica reads the trust version by default: 4 GETs a second, a revocation seen within 250 ms plus a load. */
export const TRUST_POLL_MS = 250;

/**
 * Loads the shared trust store (layout in redis-trust-keys.ts) and follows it through the
 * follower (or a subscriber of its own). Reads never touch Redis (fail static); writes need Redis
 * and reject with a clear error without it. A snapshot is only replaced by a newer one that
 * forgets nothing this replica held: revocations are sticky even when Redis loses data. The
 * connections stay the caller's (close() detaches). Rejects when Redis is unreachable at start:
 * no snapshot to keep yet.
 */
export async function createRedisTrustStore(options: RedisTrustStoreOptions): Promise<TrustStore> {
  const { redis, prefix } = options;
  const logger = options.logger ?? noopLogger;
  const now = options.now ?? Date.now;
  const { keys, channel } = trustKeys(redis, prefix);
  const listeners = createListeners<TrustSnapshot>(logger, 'trust store', (s) => ({ version: s.version }));
  const failures = createFailureLog(logger, 'trust store refresh from redis failed; serving the last snapshot');
  let current = makeSnapshot(0, [], []);
  let closed = false;

  async function run(script: string, args: readonly string[]): Promise<Loaded> {
    const reply = await redis.eval(script, keys.length, ...keys, channel, String(current.version), String(Math.floor(now())), ...args);
    return decodeState(reply);
  }

  /** Takes a loaded store if it is newer and forgets nothing this replica knew; else false. */
  function accept(loaded: Loaded): boolean {
    const next = loaded.snapshot;
    if (next.version <= current.version) return next.version === current.version;
    const revoked = new Set(next.revocations.map((r) => r.id));
    if (!current.revocations.every((r) => revoked.has(r.id)) || !current.entries.every((e) => loaded.entryIds.has(e.id))) {
      return false; // Redis lost data this replica still has: merge it back first
    }
    if (loaded.unreadable.length > 0) logger.error({ ids: loaded.unreadable }, 'unreadable trust entries in redis; they are not trusted');
    current = next;
    logger.info({ version: next.version, entries: next.entries.length, revocations: next.revocations.length }, 'trust store updated');
    listeners.emit(next);
    return true;
  }

  const merge = async (): Promise<void> => void accept(await run(MERGE, mergeArgs(current)));
  const load = async (): Promise<void> => {
    if (!accept(await run(LOAD, []))) await merge();
  };
  const inRedis = async (): Promise<StoreCounts> => {
    // One round trip; the keys share the prefix's hash tag, so this works on a Cluster too.
    const replies = (await redis.multi().get(keys[2]).hlen(keys[0]).hlen(keys[1]).exec()) ?? [];
    const [version, entries, revocations] = replies.map(([error, value]) => {
      if (error !== null) throw error;
      return value;
    });
    return { version: version == null ? undefined : Number(version), entries: Number(entries), revocations: Number(revocations) };
  };
  const { follower, release } = followerFor(redis, options, logger);
  const sync = createTrustSync({
    follower,
    channel,
    merge,
    load,
    inRedis,
    mine: () => ({ version: current.version, entries: current.entries.length, revocations: current.revocations.length }),
    failures,
    pollIntervalMs: options.pollIntervalMs ?? TRUST_POLL_MS,
  });

  async function write(operation: string, script: string, args: readonly string[]): Promise<TrustSnapshot> {
    if (closed) throw trustStoreClosed(operation);
    try {
      if (!accept(await run(script, args))) await merge();
    } catch (error) {
      throw trustStoreUnavailable(operation, error);
    }
    return current;
  }

  try {
    const timeout = options.connectTimeoutMs ?? 10_000;
    await Promise.all([connectRedis(redis, timeout), connectRedis(follower.subscriber, timeout)]);
    await sync.start();
    await merge();
  } catch (error) {
    await sync.stop();
    await release();
    throw trustStoreUnavailable('the initial load', error);
  }

  return {
    snapshot: () => current,
    async upsert(entries) {
      const args = upsertArgs(entries.map(normalizeEntry)); // all or nothing: validate before writing
      if (args.length === 0) return current;
      const after = await write('upsert', UPSERT, args);
      const skipped = entries.filter((e) => after.revocations.some((r) => r.id === e.id)).map((e) => e.id);
      if (skipped.length > 0) logger.warn({ ids: skipped }, 'trust entries not updated: their ids are revoked, and revocations are sticky');
      return after;
    },
    async upsertFromFiles(entries) {
      const args = upsertArgs(checkFileEntries(entries).map(normalizeEntry));
      if (args.length === 0) return current;
      const after = await write('upsert from keys/', UPSERT_FILES, args);
      const revoked = new Set(after.revocations.map((r) => r.id));
      const fromApi = new Set(after.entries.filter((e) => e.origin === 'api').map((e) => e.id));
      const skipped = entries.filter((e) => revoked.has(e.id)).map((e) => e.id);
      const kept = entries.filter((e) => !revoked.has(e.id) && fromApi.has(e.id)).map((e) => e.id);
      if (skipped.length > 0) logger.warn({ ids: skipped }, 'trust entries not updated: their ids are revoked, and revocations are sticky');
      if (kept.length > 0) logger.warn({ ids: kept }, apiKeptMessage);
      return after;
    },
    async revoke(id, reason, at) {
      checkRevoke(id, reason, at);
      return write('revoke', REVOKE, revokeArgs({ id, reason, revokedAt: at }));
    },
    onChange: (listener) => listeners.add(listener),
    async close() {
      closed = true;
      listeners.clear();
      await sync.stop();
      await release();
    },
  };
}
