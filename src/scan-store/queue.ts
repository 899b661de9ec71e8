import { Redis } from 'ioredis';
import type { RedisClient } from '../redis/connection.ts';
import { execAll } from '../redis/exec.ts';
import { decodeRequest } from './codec.ts';
import { ensureGroup, SCANNERS_GROUP, scanKeys } from './keys.ts';
import type { ScanRequest } from './types.ts';

// The scanner side of the queue (layout in scan-keys.ts): each request goes to one consumer of
// the group `scanners`; one left unacknowledged too long (its scanner died) goes to another.

export interface ClaimOptions {
  /** How long to wait for a new request; 0 does not wait. Must stay below the client's commandTimeout. */
  readonly blockMs: number;
  /** A request claimed this long ago and not acknowledged is taken over. */
  readonly reclaimIdleMs: number;
}

export interface ClaimedRequest {
  /** The stream entry id, for `ack`. */
  readonly id: string;
  readonly request: ScanRequest;
}

type Entry = [id: string, fields: string[]];

/** Enough for any live set of claims; each XAUTOCLAIM call looks at up to 10 of them (COUNT 1). */
const MAX_RECLAIM_STEPS = 100;
/** Malformed entries skipped in one call before it returns undefined (the next call reads on). */
const MAX_SKIPPED = 100;

function checkOptions(redis: RedisClient, { blockMs, reclaimIdleMs }: ClaimOptions): void {
  if (!Number.isSafeInteger(blockMs) || blockMs < 0) throw new TypeError('claimNext: blockMs must be an integer ≥ 0');
  if (!Number.isSafeInteger(reclaimIdleMs) || reclaimIdleMs <= 0)
    throw new TypeError('claimNext: reclaimIdleMs must be a positive integer');
  const timeout = redis instanceof Redis ? redis.options.commandTimeout : undefined;
  if (timeout !== undefined && blockMs >= timeout) {
    throw new TypeError(
      `claimNext: blockMs (${blockMs}) must be below the client's commandTimeout (${timeout}), or the wait fails as a timeout`,
    );
  }
}

/**
 * The next request for `consumer`: first one a dead scanner claimed (idle past reclaimIdleMs),
 * else a new one, waiting up to blockMs. undefined when there is none. A blocking read holds its
 * connection: give a scanner its own. Malformed entries are acknowledged and skipped. Rejects
 * when Redis fails (the scanner retries).
 */
export async function claimNext(
  redis: RedisClient,
  prefix: string,
  consumer: string,
  options: ClaimOptions,
): Promise<ClaimedRequest | undefined> {
  checkOptions(redis, options);
  const { stream } = scanKeys(redis, prefix);
  for (let attempt = 0; ; attempt++) {
    try {
      return await claimOnce(redis, prefix, stream, consumer, options);
    } catch (error) {
      // No group: Redis came back empty and nothing was queued since.
      if (attempt > 0 || !(error instanceof Error && error.message.startsWith('NOGROUP'))) throw error;
      await ensureGroup(redis, stream);
    }
  }
}

async function claimOnce(
  redis: RedisClient,
  prefix: string,
  stream: string,
  consumer: string,
  options: ClaimOptions,
): Promise<ClaimedRequest | undefined> {
  let cursor = '0-0';
  for (let step = 0; step < MAX_RECLAIM_STEPS; step++) {
    const reply = (await redis.xautoclaim(stream, SCANNERS_GROUP, consumer, options.reclaimIdleMs, cursor, 'COUNT', 1)) as [
      string,
      (Entry | null)[],
    ];
    const claimed = await firstReadable(redis, prefix, reply[1]);
    if (claimed !== undefined) return claimed;
    cursor = reply[0];
    if (cursor === '0-0') break;
  }
  for (let step = 0; step < MAX_SKIPPED; step++) {
    const read = (
      options.blockMs > 0
        ? await redis.xreadgroup('GROUP', SCANNERS_GROUP, consumer, 'COUNT', 1, 'BLOCK', options.blockMs, 'STREAMS', stream, '>')
        : await redis.xreadgroup('GROUP', SCANNERS_GROUP, consumer, 'COUNT', 1, 'STREAMS', stream, '>')
    ) as [string, Entry[]][] | null;
    const entries = read?.[0]?.[1] ?? [];
    if (entries.length === 0) return undefined;
    const claimed = await firstReadable(redis, prefix, entries);
    if (claimed !== undefined) return claimed; // else it was malformed (and acked): read on
  }
  return undefined;
}

async function firstReadable(redis: RedisClient, prefix: string, entries: readonly (Entry | null)[]): Promise<ClaimedRequest | undefined> {
  for (const entry of entries) {
    if (entry === null) continue; // deleted meanwhile (Redis < 7 lists those as nil)
    const request = decodeRequest(entry[1]);
    if (request !== undefined) return { id: entry[0], request };
    await ack(redis, prefix, entry[0]);
  }
  return undefined;
}

/** Done with a request (scanned, or given up): it leaves the group's pending list and the stream. */
export async function ack(redis: RedisClient, prefix: string, id: string): Promise<void> {
  const { stream } = scanKeys(redis, prefix);
  await execAll(redis.multi().xack(stream, SCANNERS_GROUP, id).xdel(stream, id));
}
