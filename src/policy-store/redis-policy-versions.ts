import type { RedisClient } from '../redis/connection.ts';

/** A policy applied through the admin API. Versions are never changed once written. */
export interface PolicyVersion {
  readonly version: number;
  readonly text: string;
  readonly hash: string;
  readonly actor: string;
  /** Epoch ms. */
  readonly time: number;
  /** The version that was active when this one was applied (what a rollback returns to); undefined for the first. */
  readonly previous: number | undefined;
}

export interface PolicyVersions {
  readonly channel: string;
  /** The active API version; undefined when no policy was ever applied through the API. */
  active(): Promise<number | undefined>;
  get(version: number): Promise<PolicyVersion | undefined>;
  /** Stores a new version and makes it active; every replica is told. */
  put(input: Omit<PolicyVersion, 'version' | 'previous'>): Promise<{ version: number; previous: number | undefined }>;
  /** Makes the active version's `previous` active. `from` 0: no API policy; `to` 0: the active one is the first. */
  rollback(): Promise<{ from: number; to: number }>;
  /** Writes back a version this replica runs after Redis lost it (only when Redis holds no API policy at all). */
  restore(record: PolicyVersion): Promise<boolean>;
}

/*
 * Layout (`<prefix>` after any ioredis keyPrefix; both keys in one Cluster slot through the prefix's hash tag):
 *   <prefix>policy:versions  HASH  "<n>" → {"text","hash","actor","time"}, "<n>:previous" → the version active before it (0: none)
 *   <prefix>policy:head      HASH  "active" → the active version, "last" → the highest version written
 *   <prefix>policy:changed   pub/sub channel carrying the active version after each change
 * No TTLs: the API policy must survive as long as the trust store does.
 */
const PUT = `
local active = redis.call('HGET', KEYS[2], 'active') or '0'
local version = redis.call('HINCRBY', KEYS[2], 'last', 1)
redis.call('HSET', KEYS[1], tostring(version), ARGV[2], version .. ':previous', active)
redis.call('HSET', KEYS[2], 'active', version)
redis.call('PUBLISH', ARGV[1], tostring(version))
return {version, tonumber(active)}`;

const ROLLBACK = `
local active = redis.call('HGET', KEYS[2], 'active')
if not active or active == '0' then return {0, 0} end
local previous = redis.call('HGET', KEYS[1], active .. ':previous')
if not previous or previous == '0' then return {tonumber(active), 0} end
redis.call('HSET', KEYS[2], 'active', previous)
redis.call('PUBLISH', ARGV[1], previous)
return {tonumber(active), tonumber(previous)}`;

const RESTORE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], ARGV[2] .. ':previous', '0')
redis.call('HSET', KEYS[2], 'active', ARGV[2], 'last', ARGV[2])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

export function redisPolicyVersions(redis: RedisClient, prefix: string): PolicyVersions {
  const versions = `${prefix}policy:versions`;
  const head = `${prefix}policy:head`;
  const channel = `${redis.options.keyPrefix ?? ''}${prefix}policy:changed`;
  const body = (r: Omit<PolicyVersion, 'version' | 'previous'>): string =>
    JSON.stringify({ text: r.text, hash: r.hash, actor: r.actor, time: r.time });
  const pair = (reply: unknown): [number, number] => {
    const [a, b] = reply as [number, number];
    return [Number(a), Number(b)];
  };
  return {
    channel,
    async active() {
      const active = Number((await redis.hget(head, 'active')) ?? 0);
      return active > 0 ? active : undefined;
    },
    async get(version) {
      const [json, previous] = await redis.hmget(versions, String(version), `${version}:previous`);
      if (json === null || json === undefined) return undefined;
      const stored = JSON.parse(json) as Omit<PolicyVersion, 'version' | 'previous'>;
      const before = Number(previous ?? 0);
      return {
        version,
        text: stored.text,
        hash: stored.hash,
        actor: stored.actor,
        time: stored.time,
        previous: before > 0 ? before : undefined,
      };
    },
    async put(input) {
      const [version, previous] = pair(await redis.eval(PUT, 2, versions, head, channel, body(input)));
      return { version, previous: previous > 0 ? previous : undefined };
    },
    async rollback() {
      const [from, to] = pair(await redis.eval(ROLLBACK, 2, versions, head, channel));
      return { from, to };
    },
    async restore(record) {
      return (await redis.eval(RESTORE, 2, versions, head, channel, String(record.version), body(record))) === 1;
    },
  };
}
