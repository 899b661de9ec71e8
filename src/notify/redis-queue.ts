// The delivery queue in Redis (docs/notifications.md "Replicas"): every replica queues into and
// delivers from the same per-endpoint keys, each step one Lua script, so a delivery is claimed by
// one replica at a time. Keys, under the prefix (one hash tag, one Cluster slot):
//   notify:seen:<event id>          an event id queued lately (SET NX PX: the cross-replica dedupe)
//   notify:<endpoint>:items         hash  id → {"payload","attempts"}
//   notify:<endpoint>:due           zset  id → when it may be claimed (ms): due time, or lease end
//   notify:<endpoint>:order         zset  id → when it was queued (the bound drops the lowest)
//   notify:<endpoint>:leases        hash  id → the lease of the claim being sent
import type { RedisClient } from '../redis/connection.ts';
import type { Claimed, DeliveryQueue } from './queue.ts';

/** KEYS: seen, then items, due, order, leases per endpoint. ARGV: dedupeMs, now, maxPending, id, item. Returns -1 for a repeat, else the drops per endpoint. */
const ENQUEUE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {-1} end
local out = {}
for i = 2, #KEYS, 4 do
  redis.call('HSET', KEYS[i], ARGV[4], ARGV[5])
  redis.call('ZADD', KEYS[i + 1], ARGV[2], ARGV[4])
  redis.call('ZADD', KEYS[i + 2], ARGV[2], ARGV[4])
  local over = redis.call('ZCARD', KEYS[i + 2]) - tonumber(ARGV[3])
  local dropped = 0
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[i + 2], 0, over - 1)) do
      redis.call('HDEL', KEYS[i], old)
      redis.call('ZREM', KEYS[i + 1], old)
      redis.call('ZREM', KEYS[i + 2], old)
      redis.call('HDEL', KEYS[i + 3], old)
      dropped = dropped + 1
    end
  end
  table.insert(out, dropped)
end
return out`;

/** KEYS: items, due, leases. ARGV: now, leaseMs, lease. Moves the first due id's time to the lease's end. */
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #ids == 0 then return false end
local item = redis.call('HGET', KEYS[1], ids[1])
if not item then
  redis.call('ZREM', KEYS[2], ids[1])
  return false
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), ids[1])
redis.call('HSET', KEYS[3], ids[1], ARGV[3])
return {ids[1], item}`;

/** KEYS: items, due, order, leases. ARGV: id. */
const DONE = `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1`;

/** KEYS: items, due, leases. ARGV: id, lease, dueAt, item. Only the lease holder reschedules. */
const RETRY = `
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1`;

export function createRedisQueue(redis: RedisClient, prefix: string, maxPending: number): DeliveryQueue {
  const keys = (endpoint: string) => {
    const base = `${prefix}notify:${endpoint}:`;
    return { items: `${base}items`, due: `${base}due`, order: `${base}order`, leases: `${base}leases` };
  };
  const item = (payload: string, attempts: number): string => JSON.stringify({ payload, attempts });
  return {
    async enqueue(id, payload, endpoints, dedupeMs, now) {
      const perEndpoint = endpoints.flatMap((e) => {
        const k = keys(e);
        return [k.items, k.due, k.order, k.leases];
      });
      const reply = (await redis.eval(
        ENQUEUE,
        1 + perEndpoint.length,
        `${prefix}notify:seen:${id}`,
        ...perEndpoint,
        String(Math.max(1, Math.round(dedupeMs))),
        String(now),
        String(maxPending),
        id,
        item(payload, 0),
      )) as number[];
      if (reply[0] === -1) return null;
      return Object.fromEntries(endpoints.map((e, i) => [e, Number(reply[i] ?? 0)]));
    },
    async claim(endpoint, now, leaseMs, lease) {
      const k = keys(endpoint);
      const reply = (await redis.eval(CLAIM, 3, k.items, k.due, k.leases, String(now), String(leaseMs), lease)) as [string, string] | null;
      if (reply === null) return undefined;
      const stored = JSON.parse(reply[1]) as { payload: string; attempts: number };
      return { id: reply[0], payload: stored.payload, attempts: stored.attempts, lease } satisfies Claimed;
    },
    async done(endpoint, claimed) {
      const k = keys(endpoint);
      await redis.eval(DONE, 4, k.items, k.due, k.order, k.leases, claimed.id);
    },
    async retry(endpoint, claimed, dueAt) {
      const k = keys(endpoint);
      await redis.eval(
        RETRY,
        3,
        k.items,
        k.due,
        k.leases,
        claimed.id,
        claimed.lease,
        String(dueAt),
        item(claimed.payload, claimed.attempts + 1),
      );
    },
    async nextDue(endpoint) {
      const first = await redis.zrange(keys(endpoint).due, 0, 0, 'WITHSCORES');
      return first.length < 2 ? undefined : Number(first[1]);
    },
    async depth(endpoint) {
      return redis.zcard(keys(endpoint).order);
    },
  };
}
