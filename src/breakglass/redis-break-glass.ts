import { imageProblem, type BreakGlassEntry, type BreakGlassStore } from './entries.ts';
import { noopLogger, type Logger } from '../log/logger.ts';
import type { RedisClient } from '../redis/connection.ts';
import { followRedis } from '../redis/follow.ts';
import type { FollowVia } from '../redis/follower.ts';

/**
 * How often each replica re-reads the entries without a change notice (one HGETALL of a small
 * hash): an entry ended on one replica must stop letting pulls and their blobs through on every
 * other within a second, even when pub/sub silently stops delivering (docs/integrity.md "Allowances").
 */
export const BREAK_GLASS_POLL_MS = 500;

export interface RedisBreakGlassOptions extends FollowVia {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
  readonly now: () => number;
  readonly pollIntervalMs?: number;
}

/**
 * Break-glass entries shared by every replica: the hash `<prefix>breakglass` (id → entry JSON) and
 * a change notice on `<prefix>breakglass:changed`. Pulls match against this replica's copy (no
 * Redis call per pull); the copy follows every change within a second (a notice, else the
 * BREAK_GLASS_POLL_MS re-read), and is re-read after every reconnect. Expired entries are removed from Redis by whichever replica loads next.
 */
export async function createRedisBreakGlassStore(o: RedisBreakGlassOptions): Promise<BreakGlassStore> {
  const { redis } = o;
  const logger = o.logger ?? noopLogger;
  const key = `${o.prefix}breakglass`;
  const channel = `${redis.options.keyPrefix ?? ''}${o.prefix}breakglass:changed`;
  let entries: readonly BreakGlassEntry[] = [];

  async function load(): Promise<void> {
    const all = await redis.hgetall(key);
    const now = o.now();
    const next: BreakGlassEntry[] = [];
    const expired: string[] = [];
    for (const [id, json] of Object.entries(all)) {
      const entry = decode(id, json);
      if (entry === undefined) logger.warn({ event: 'break_glass_unreadable', id }, 'unreadable break-glass entry in redis; ignored');
      else if (entry.expires <= now) expired.push(id);
      else next.push(entry);
    }
    entries = next;
    if (expired.length > 0) await redis.hdel(key, ...expired);
  }

  const follower = await followRedis({
    redis,
    follower: o.follower,
    subscriber: o.subscriber,
    channel,
    load,
    logger,
    what: 'break glass',
    pollIntervalMs: o.pollIntervalMs ?? BREAK_GLASS_POLL_MS,
  });
  await follower.refresh();

  return {
    shared: true,
    active: (now) => entries.filter((e) => e.expires > now),
    async add(entry) {
      await redis.multi().hset(key, entry.id, JSON.stringify(entry)).publish(channel, entry.id).exec();
      entries = [...entries.filter((e) => e.id !== entry.id), entry]; // in force here at once, whatever the load does
      await follower.refresh().catch(() => {});
    },
    async end(id) {
      const [[error, removed] = [null, 0]] = (await redis.multi().hdel(key, id).publish(channel, id).exec()) ?? [];
      if (error !== null) throw error;
      entries = entries.filter((e) => e.id !== id);
      await follower.refresh().catch(() => {});
      return removed === 1;
    },
    close: () => follower.stop(),
  };
}

function decode(id: string, json: string): BreakGlassEntry | undefined {
  try {
    const value = JSON.parse(json) as Partial<BreakGlassEntry>;
    if (
      value.id !== id ||
      typeof value.image !== 'string' ||
      imageProblem(value.image) !== undefined ||
      typeof value.expires !== 'number' ||
      typeof value.reason !== 'string'
    )
      return undefined;
    return {
      id,
      image: value.image,
      reason: value.reason,
      expires: value.expires,
      actor: String(value.actor ?? ''),
      createdAt: Number(value.createdAt ?? 0),
    };
  } catch {
    return undefined;
  }
}
