import type { RedisClient } from '../redis/connection.ts';
import type { SecretHash } from './robot-secret.ts';

/** A robot account: a name, the scrypt hash of its secret (never the secret), its pull patterns. */
export interface RobotRecord extends SecretHash {
  readonly name: string;
  /** Patterns over canonical names this robot may pull. */
  readonly repositories: readonly string[];
  readonly createdAt: number;
  /** Set once revoked; a revoked robot never authenticates, and its name may be given out again. */
  readonly revokedAt?: number;
}

export interface RobotStore {
  /** Stores a new robot; false when an active robot already has that name. */
  create(record: RobotRecord): Promise<boolean>;
  get(name: string): Promise<RobotRecord | undefined>;
  list(): Promise<RobotRecord[]>;
  /** Marks the active robot of that name revoked; false when there is none. */
  revoke(name: string, at: number): Promise<boolean>;
}

export const ROBOT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const ROBOT_NAME_MAX = 64;

/** In this process only: robots vanish when it restarts (config/README.md, "pullAuth"). */
export function createMemoryRobotStore(): RobotStore {
  const robots = new Map<string, RobotRecord>();
  return {
    async create(record) {
      const current = robots.get(record.name);
      if (current !== undefined && current.revokedAt === undefined) return false;
      robots.set(record.name, record);
      return true;
    },
    async get(name) {
      return robots.get(name);
    },
    async list() {
      return [...robots.values()];
    },
    async revoke(name, at) {
      const current = robots.get(name);
      if (current === undefined || current.revokedAt !== undefined) return false;
      robots.set(name, { ...current, revokedAt: at });
      return true;
    },
  };
}

// Both run atomically in Redis, so two replicas never both create, or both revoke, one name.
const CREATE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if not ok or type(record) ~= 'table' or record['revokedAt'] == nil or record['revokedAt'] == cjson.null then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;
const REVOKE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local record = cjson.decode(current)
if record['revokedAt'] ~= nil and record['revokedAt'] ~= cjson.null then return 0 end
record['revokedAt'] = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1`;

/** The hash `<prefix>robots`: robot name → JSON record, shared by every replica. */
export function createRedisRobotStore(redis: RedisClient, prefix: string): RobotStore {
  const key = `${prefix}robots`;
  return {
    async create(record) {
      return (await redis.eval(CREATE, 1, key, record.name, JSON.stringify(record))) === 1;
    },
    async get(name) {
      const value = await redis.hget(key, name);
      return value === null ? undefined : parseRecord(value);
    },
    async list() {
      const all = await redis.hgetall(key);
      return Object.values(all).flatMap((value) => parseRecord(value) ?? []);
    },
    async revoke(name, at) {
      return (await redis.eval(REVOKE, 1, key, name, String(at))) === 1;
    },
  };
}

/** A record that does not have the expected shape is treated as no robot at all (fail closed). */
function parseRecord(value: string): RobotRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const r = parsed as Record<string, unknown>;
  const repositories = r['repositories'];
  if (
    typeof r['name'] !== 'string' ||
    typeof r['salt'] !== 'string' ||
    typeof r['hash'] !== 'string' ||
    typeof r['createdAt'] !== 'number' ||
    !Array.isArray(repositories) ||
    !repositories.every((p) => typeof p === 'string')
  ) {
    return undefined;
  }
  const revokedAt = typeof r['revokedAt'] === 'number' ? { revokedAt: r['revokedAt'] } : {};
  return {
    name: r['name'],
    salt: r['salt'],
    hash: r['hash'],
    repositories: repositories as string[],
    createdAt: r['createdAt'],
    ...revokedAt,
  };
}
