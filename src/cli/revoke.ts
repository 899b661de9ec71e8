import { resolveConfig } from '../config/resolve.ts';
import { noopLogger } from '../log/logger.ts';
import { connectRedis, createRedis } from '../redis/connection.ts';
import { createRedisTrustStore } from '../trust-store/redis-trust-store.ts';
import { UsageError } from '../tools/usage-error.ts';
import { parseFlags, required } from './args.ts';
import { REVOKE_USAGE } from './usage.ts';

/**
 * Revokes a trust-store entry in the shared (Redis) store: every replica drops the verdicts that
 * depended on it within a second, and no restart or reload of keys/ undoes it.
 */
export async function revokeCommand(args: readonly string[], print: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    config: { type: 'string' },
    reason: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    print(REVOKE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one key id');
  const id = positionals[0]!;
  const reason = required(values.reason, '--reason');
  const config = resolveConfig({ config: values.config }, env);
  if (config.redis.url === undefined) {
    print(
      'trustgate revoke: this config has no redis.url; without Redis each proxy keeps its trust store in its own memory, so there is no shared store to revoke in',
    );
    return 1;
  }
  const redis = createRedis(config.redis.url, { logger: noopLogger });
  const subscriber = createRedis(config.redis.url, { logger: noopLogger });
  try {
    await Promise.all([connectRedis(redis), connectRedis(subscriber)]);
    const store = await createRedisTrustStore({ redis, subscriber, prefix: config.redis.prefix, pollIntervalMs: 0 });
    const known = store.snapshot().entries.some((e) => e.id === id);
    if (!known) print(`note: "${id}" is not in the trust store yet; the revocation is recorded and will apply if it is added`);
    const snapshot = await store.revoke(id, reason, Date.now());
    await store.close();
    print(`revoked "${id}" (trust version ${snapshot.version}): ${reason}`);
    return 0;
  } finally {
    redis.disconnect();
    subscriber.disconnect();
  }
}
