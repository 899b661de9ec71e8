import type { Logger } from '../log/logger.ts';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import { errorMessage } from './throttled-log.ts';

/**
 * Which `maxmemory-policy` is safe for trustgate:
 * - `noeviction`: Redis never drops a key; when full, writes fail, and trustgate's cache writes
 *   fail soft (logged), while the trust store keeps every revocation.
 * - `volatile-*`: Redis only ever evicts keys that have a TTL. trustgate puts a TTL on what it
 *   can rebuild (verdicts, allow sets) and never on the trust store (entries, tombstones,
 *   version), so a revocation cannot be evicted. Losing a cached verdict or allow set only means
 *   verifying again (or denying: fail closed). This holds only while every security-relevant key
 *   any part of trustgate writes has no TTL — a rule for new stores, too.
 * - `allkeys-*`: Redis may evict a tombstone, and the revoked key comes back on the next load of
 *   `keys/`. That is the loud warning.
 */
export function isSafeEvictionPolicy(policy: string): boolean {
  return policy === 'noeviction' || policy.startsWith('volatile-');
}

async function policyOf(node: Redis): Promise<string | undefined> {
  const reply = await node.config('GET', 'maxmemory-policy');
  const values = Array.isArray(reply) ? reply : [];
  const value: unknown = values[1];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads `maxmemory-policy` (on every master of a cluster) and warns unless it is safe. `CONFIG`
 * may be disabled (managed Redis, ACLs): then it says so at info level and returns undefined.
 * Returns the unsafe policy found, the policy when all are safe, or undefined when unknown.
 */
export async function warnOnEvictionPolicy(redis: Redis | Cluster, logger: Logger): Promise<string | undefined> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let seen: string | undefined;
  for (const node of nodes) {
    let policy: string | undefined;
    try {
      policy = await policyOf(node);
    } catch (error) {
      logger.info(
        { err: errorMessage(error) },
        'could not read redis maxmemory-policy (CONFIG disabled?); make sure it is noeviction or volatile-*',
      );
      return undefined;
    }
    if (policy === undefined) continue;
    if (!isSafeEvictionPolicy(policy)) {
      logger.warn(
        { policy, safe: ['noeviction', 'volatile-*'] },
        `REDIS EVICTION POLICY "${policy}" CAN EVICT TRUST-STORE REVOCATIONS: a revoked key could be trusted again. Set maxmemory-policy to noeviction (or a volatile-* policy).`,
      );
      return policy;
    }
    seen = policy;
  }
  return seen;
}
