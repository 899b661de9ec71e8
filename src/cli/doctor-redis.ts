// trustgate doctor's Redis checks: reachable and its version, maxmemory-policy (the eviction check
// the proxy logs at start), persistence. Reads only.
import { Cluster, type Redis } from 'ioredis';
import { noopLogger } from '../log/logger.ts';
import { connectRedis, describeTarget, parseRedisUrl, type RedisClient } from '../redis/connection.ts';
import { isSafeEvictionPolicy, warnOnEvictionPolicy } from '../redis/eviction-policy.ts';
import { message, type Line } from './doctor-line.ts';

const REDIS_CONNECT_MS = 5_000;

/** One line for the connection and version; then, when connected, one for eviction and one for persistence. */
export async function redisChecks(redis: RedisClient, url: string): Promise<Line[]> {
  const where = describeTarget(parseRedisUrl(url));
  let last: unknown;
  redis.on('error', (error: unknown) => (last = error));
  try {
    await connectRedis(redis, REDIS_CONNECT_MS);
  } catch (error) {
    return [{ status: 'fail', check: 'redis', detail: `cannot connect to ${where}: ${message(last ?? error)}` }];
  }
  const info = parseInfo(String(await redis.info('server').catch(() => '')));
  const version = info.get('redis_version');
  const lines: Line[] = [{ status: 'ok', check: 'redis', detail: `Redis ${version ?? '(version not reported)'} at ${where}` }];
  const policy = await warnOnEvictionPolicy(redis, noopLogger).catch(() => undefined);
  lines.push(
    policy === undefined
      ? {
          status: 'warn',
          check: 'redis eviction',
          detail: 'cannot read maxmemory-policy (CONFIG disabled?): make sure it is noeviction or volatile-*',
        }
      : isSafeEvictionPolicy(policy)
        ? { status: 'ok', check: 'redis eviction', detail: `maxmemory-policy ${policy}` }
        : {
            status: 'warn',
            check: 'redis eviction',
            detail: `maxmemory-policy ${policy} can evict trust-store revocations (a revoked key could be trusted again): set noeviction or a volatile-* policy`,
          },
  );
  lines.push(await persistence(redis));
  return lines;
}

/** `appendonly` and `save` (CONFIG GET, on every master of a cluster), else INFO persistence's `aof_enabled`. */
async function persistence(redis: RedisClient): Promise<Line> {
  const check = 'redis persistence';
  const lost =
    "a restart of Redis loses the trust store's API entries and revocations, API policies, robots and break-glass entries (replicas write back only what they still hold)";
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis as Redis];
  const found: string[] = [];
  for (const node of nodes) {
    try {
      const [aof, save] = await Promise.all([configValue(node, 'appendonly'), configValue(node, 'save')]);
      if (aof !== 'yes' && (save === undefined || save.trim() === '')) {
        return {
          status: 'warn',
          check,
          detail: `appendonly ${aof ?? '?'} and no save rules on ${node.options.host}:${node.options.port}: ${lost}`,
        };
      }
      found.push(aof === 'yes' ? 'appendonly yes' : `save "${save}"`);
    } catch {
      const aof = parseInfo(String(await node.info('persistence').catch(() => ''))).get('aof_enabled');
      if (aof === '1') found.push('aof_enabled:1');
      else
        return {
          status: 'warn',
          check,
          detail: `cannot read CONFIG (disabled?) and INFO says aof_enabled:${aof ?? '?'}: check that RDB snapshots (save) or AOF are on; otherwise ${lost}`,
        };
    }
  }
  return { status: 'ok', check, detail: [...new Set(found)].join(', ') };
}

async function configValue(node: Redis, name: string): Promise<string | undefined> {
  const reply = (await node.config('GET', name)) as unknown;
  const value: unknown = Array.isArray(reply) ? reply[1] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function parseInfo(text: string): Map<string, string> {
  return new Map(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]),
  );
}
