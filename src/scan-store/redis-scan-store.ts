import { randomBytes } from 'node:crypto';
import { noopLogger, type Logger } from '../log/logger.ts';
import { isDigest, type Digest } from '../oci/reference.ts';
import { connectRedis, type RedisClient } from '../redis/connection.ts';
import { checkRecord, checkRequest, decodeRecord, encodeRecord, requestFields } from './codec.ts';
import { ensureGroup, SCANNERS_GROUP, scanKeys } from './keys.ts';
import { createPostedListeners } from './listeners.ts';
import { livePending } from './pending.ts';
import { PUT_RECORD, REQUEST_SCAN } from './scripts.ts';
import { scanStoreClosed, scanStoreUnavailable, validateScanStoreOptions, type ScanStoreOptions } from './options.ts';
import { createFailureLog } from '../redis/throttled-log.ts';
import type { ScanStore } from './types.ts';

export interface RedisScanStoreOptions extends ScanStoreOptions {
  readonly redis: RedisClient;
  /** A connection for SUBSCRIBE only (a subscribed connection cannot send other commands). */
  readonly subscriber: RedisClient;
  readonly prefix: string;
  /**
   * Called when the subscriber is back after losing its connection: posts made meanwhile were not
   * heard, so verdicts cached in this process may predate a scan (drop them all).
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
  const { redis, subscriber, prefix } = options;
  const { requeueAfterMs, maxQueueLength } = validateScanStoreOptions(options);
  const logger: Logger = options.logger ?? noopLogger;
  const keys = scanKeys(redis, prefix);
  const origin = randomBytes(8).toString('hex');
  const listeners = createPostedListeners(logger);
  const readFailures = createFailureLog(logger, 'scan store read from redis failed; treating the digest as unscanned');
  const queueFailures = createFailureLog(logger, 'scan store: queueing a scan request in redis failed');
  const syncFailures = createFailureLog(logger, 'scan store: following redis failed');
  let closed = false;

  const onMessage = (channel: string, message: string): void => {
    if (channel !== keys.channel) return;
    const [digest, from] = message.split(' ');
    if (from === origin) return; // our own post: its listeners were called when it was stored
    if (digest !== undefined && isDigest(digest)) listeners.emit(digest);
    else logger.warn({ channel }, 'malformed scan posted message; ignored');
  };
  const onSubscriberReady = (): void => {
    subscriber.subscribe(keys.channel).then(
      () => options.onMissedPosts?.(),
      (error: unknown) => syncFailures.failed(error),
    );
  };
  const onRedisReady = (): void => {
    ensureGroup(redis, keys.stream).then(
      () => syncFailures.reset(),
      (error: unknown) => syncFailures.failed(error),
    );
  };

  try {
    const timeout = options.connectTimeoutMs ?? 10_000;
    await Promise.all([connectRedis(redis, timeout), connectRedis(subscriber, timeout)]);
    await subscriber.subscribe(keys.channel);
    await ensureGroup(redis, keys.stream);
  } catch (error) {
    throw scanStoreUnavailable('start', error);
  }
  subscriber.on('message', onMessage);
  subscriber.on('ready', onSubscriberReady);
  redis.on('ready', onRedisReady); // Redis may be back empty: the next request needs the group

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
      subscriber.off('message', onMessage);
      subscriber.off('ready', onSubscriberReady);
      redis.off('ready', onRedisReady);
      if (subscriber.status === 'ready') await subscriber.unsubscribe(keys.channel).catch(() => {});
    },
  };
}
