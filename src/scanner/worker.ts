import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UpstreamConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { connectRedis, createRedis, redactRedisUrl } from '../redis/connection.ts';
import { ack, claimNext } from '../scan-store/queue.ts';
import { createFailureLog } from '../redis/throttled-log.ts';
import { scanOne, type ScanOutcome } from './scan-one.ts';
import { findTrivy, trivyNotFound } from './trivy.ts';

export interface ScanWorkerOptions {
  /** The trustgate config's redis.url and redis.prefix: where the queue is. */
  readonly redisUrl: string;
  readonly prefix: string;
  /** The trustgate config's upstreams: where each queued image really lives. */
  readonly upstreams: readonly UpstreamConfig[];
  /** trustgate's base URL, for POST /admin/v1/scans. */
  readonly api: string;
  /** A bearer token with the role `scanner`, asked for on each post. Never logged. */
  readonly token: () => string;
  /** The trivy executable: a path, or a name looked up in searchPath. */
  readonly trivy: string;
  readonly searchPath: string | undefined;
  /** trivy's environment (TRIVY_USERNAME/TRIVY_PASSWORD, proxies, caches); never the scanner token. */
  readonly trivyEnv: Readonly<Record<string, string | undefined>>;
  /** Default `<hostname>-<pid>`. */
  readonly consumer?: string;
  /** One trivy run's limit. */
  readonly timeoutMs: number;
  /** A claim left unacknowledged this long (its worker died, or its scan failed) is retried. */
  readonly reclaimIdleMs: number;
  /** How long one wait for a request lasts (below the Redis command timeout). Default 1000. */
  readonly blockMs?: number;
  /** Take at most one request (waiting up to blockMs for it), then return. */
  readonly once: boolean;
  /** Aborting stops the loop once the current request is done. */
  readonly signal?: AbortSignal;
  readonly logger: Logger;
}

export type ScanWorkerSummary = Record<'claimed' | ScanOutcome, number>;

const MAX_REPORT_BYTES = 64 * 1_048_576; // the admin API's largest admin.maxBodyBytes
const POST_TIMEOUT_MS = 60_000;
const REDIS_RETRY_MS = 1_000;

/**
 * The reference scanner: claims queued scan requests, runs trivy on each image straight from its
 * upstream, posts the report to the admin API. Acknowledges a request once its report is stored
 * or refused; a failure leaves it claimed, and XAUTOCLAIM hands it out again after reclaimIdleMs.
 * Rejects before touching Redis when trivy is missing.
 */
export async function runScanWorker(options: ScanWorkerOptions): Promise<ScanWorkerSummary> {
  const { logger, signal, prefix } = options;
  const executable = findTrivy(options.trivy, options.searchPath);
  if (executable === undefined) throw new Error(trivyNotFound(options.trivy));
  if (options.timeoutMs >= options.reclaimIdleMs) {
    logger.warn(
      { event: 'scan_worker_config', timeoutMs: options.timeoutMs, reclaimIdleMs: options.reclaimIdleMs },
      'the trivy timeout is not below the reclaim idle time: a slow scan may be handed to a second worker meanwhile',
    );
  }
  const consumer = options.consumer ?? `${hostname()}-${process.pid}`;
  const claim = { blockMs: options.blockMs ?? 1_000, reclaimIdleMs: options.reclaimIdleMs };
  const deps = {
    upstreams: options.upstreams,
    trivy: { executable, env: options.trivyEnv, timeoutMs: options.timeoutMs, maxReportBytes: MAX_REPORT_BYTES },
    post: { api: options.api, token: options.token, timeoutMs: POST_TIMEOUT_MS },
    logger,
  };
  const summary: ScanWorkerSummary = { claimed: 0, posted: 0, refused: 0, failed: 0 };
  const redis = createRedis(options.redisUrl, { logger });
  const claimFailures = createFailureLog(logger, 'claiming a scan request from redis failed; retrying');
  try {
    await connectRedis(redis);
    logger.info(
      {
        event: 'scan_worker_started',
        consumer,
        trivy: executable,
        api: options.api,
        redis: redactRedisUrl(options.redisUrl),
        prefix,
        once: options.once,
      },
      'scan worker started',
    );
    while (signal?.aborted !== true) {
      let claimed;
      try {
        claimed = await claimNext(redis, prefix, consumer, claim);
      } catch (error) {
        if (options.once) throw error;
        claimFailures.failed(error, { event: 'scan_claim_failed' });
        await sleep(REDIS_RETRY_MS, undefined, { signal }).catch(() => {});
        continue;
      }
      claimFailures.reset();
      if (claimed !== undefined) {
        summary.claimed += 1;
        const outcome = await scanOne(claimed.request, deps);
        summary[outcome] += 1;
        if (outcome !== 'failed') {
          await ack(redis, prefix, claimed.id).catch((error: unknown) => {
            logger.error(
              { event: 'scan_ack_failed', id: claimed.id, problem: String(error) },
              'acknowledging failed; the request may be scanned again',
            );
          });
        }
      }
      if (options.once) break;
    }
    logger.info({ event: 'scan_worker_stopped', consumer, ...summary }, 'scan worker stopped');
    return summary;
  } finally {
    redis.disconnect();
  }
}
