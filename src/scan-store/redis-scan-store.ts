import { randomBytes } from 'node:crypto';
import { noopLogger, type Logger } from '../log/logger.ts';
import { isDigest, type Digest } from '../oci/reference.ts';
import { connectRedis, type RedisClient } from '../redis/connection.ts';
import { followerFor, type Following, type FollowVia } from '../redis/follower.ts';
import { checkRecord, checkRequest, decodeRecord, encodeRecord, requestFields } from './codec.ts';
import { ensureGroup, SCANNERS_GROUP, scanKeys } from './keys.ts';
import { createListeners } from '../log/listeners.ts';
import { livePending } from './pending.ts';
import { PUT_RECORD, REQUEST_SCAN } from './scripts.ts';
import { scanStoreClosed, scanStoreUnavailable, validateScanStoreOptions, type ScanStoreOptions } from './options.ts';
import { createFailureLog } from '../redis/throttled-log.ts';
import type { ScanStore } from './types.ts';

export interface RedisScanStoreOptions extends ScanStoreOptions, FollowVia {
  readonly redis: RedisClient;
  readonly prefix: string;
  /**
   * Called by the follower's reread after a reconnect: posts made meanwhile were not heard, so
   * verdicts cached in this process may predate a scan (drop them all).
   */
  readonly onMissedPosts?: () => void;
  /** How long to wait for both connections at start. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

/**
 * Scan records and the scan queue in Redis (layout in scan-keys.ts). Reads fail closed and never
 * throw: `get` is undefined (unscanned: denied), `isPending` and `request` false, each logged.
 * `put` and `pending` reject with a retryable error. The connections stay the caller's (close()
 * detaches). Rejects when Redis is unreachable at start.
 */
export async function createRedisScanStore(options: RedisScanStoreOptions): Promise<ScanStore> {
  const { redis, prefix } = options;
  const { requeueAfterMs, maxQueueLength } = validateScanStoreOptions(options);
  const logger: Logger = options.logger ?? noopLogger;
  const keys = scanKeys(redis, prefix);
  const origin = randomBytes(8).toString('hex');
  const listeners = createListeners<Digest>(logger, 'scan posted', (digest) => ({ digest }));
  const readFailures = createFailureLog(logger, 'scan store read from redis failed; treating the digest as unscanned');
  const queueFailures = createFailureLog(logger, 'scan store: queueing a scan request in redis failed');
  const syncFailures = createFailureLog(logger, 'scan store: following redis failed');
  let closed = false;

  const onMessage = (message: string): void => {
    const [digest, from] = message.split(' ');
    if (from === origin) return; // our own post: its listeners were called when it was stored
    if (digest !== undefined && isDigest(digest)) listeners.emit(digest);
    else logger.warn({ channel: keys.channel }, 'malformed scan posted message; ignored');
  };
  // After a reconnect: posts may have been missed, and Redis may be back empty (the next request needs the group).
  const reread = async (): Promise<void> => {
    options.onMissedPosts?.();
    await ensureGroup(redis, keys.stream).then(
      () => syncFailures.reset(),
      (error: unknown) => syncFailures.failed(error),
    );
  };

  const { follower, release } = followerFor(redis, options, logger);
  let following: Following | undefined;
  try {
    const timeout = options.connectTimeoutMs ?? 10_000;
    await Promise.all([connectRedis(redis, timeout), connectRedis(follower.subscriber, timeout)]);
    following = await follower.follow({ channel: keys.channel, what: 'scan posted', onMessage, reread });
    await ensureGroup(redis, keys.stream);
  } catch (error) {
    await following?.stop();
    await release();
    throw scanStoreUnavailable('start', error);
  }

  return {
    async get(digest) {
      let json: string | null;
      try {
        json = await redis.hget(keys.records, digest);
      } catch (error) {
        readFailures.failed(error, { op: 'get' });
        return undefined;
      }
      if (json === null) return undefined;
      const record = decodeRecord(json, digest);
      if (record === undefined) logger.warn({ digest }, 'unreadable scan record in redis; treating the digest as unscanned');
      return record;
    },
    async put(record) {
      checkRecord(record);
      if (closed) throw scanStoreClosed('put');
      let stored: unknown;
      try {
        const args = [record.digest, encodeRecord(record), String(record.finishedAt), keys.channel, `${record.digest} ${origin}`];
        stored = await redis.eval(PUT_RECORD, 2, keys.records, keys.pendingOf(record.digest), ...args);
      } catch (error) {
        throw scanStoreUnavailable('put', error);
      }
      if (stored === 1) listeners.emit(record.digest);
      else
        logger.info(
          { digest: record.digest, finishedAt: record.finishedAt },
          'scan record not stored: a later scan of this digest is on record',
        );
    },
    async request(request) {
      checkRequest(request);
      try {
        const args = [String(requeueAfterMs), String(maxQueueLength), SCANNERS_GROUP, ...requestFields(request)];
        return (await redis.eval(REQUEST_SCAN, 2, keys.pendingOf(request.digest), keys.stream, ...args)) !== null;
      } catch (error) {
        queueFailures.failed(error, { digest: request.digest });
        return false;
      }
    },
    async isPending(digest) {
      try {
        return (await redis.exists(keys.pendingOf(digest))) === 1;
      } catch (error) {
        readFailures.failed(error, { op: 'isPending' });
        return false;
      }
    },
    async pending(limit) {
      try {
        return await livePending(redis, keys, limit);
      } catch (error) {
        if (error instanceof TypeError) throw error;
        throw scanStoreUnavailable('listing pending scans', error);
      }
    },
    onPosted: (listener) => listeners.add(listener),
    async close() {
      closed = true;
      listeners.clear();
      await following?.stop();
      await release();
    },
  };
}
