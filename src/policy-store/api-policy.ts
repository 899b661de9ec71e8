import type { Logger } from '../log/logger.ts';
import type { PolicyHolder } from './holder.ts';
import type { RedisClient } from '../redis/connection.ts';
import { followRedis } from '../redis/follow.ts';
import type { FollowVia } from '../redis/follower.ts';
import type { PolicyVersion, PolicyVersions } from './redis-policy-versions.ts';

export interface ApiPolicy {
  /** Stores already-validated text as a new version and makes it active on every replica; resolves once this replica runs it. */
  apply(text: string, hash: string, actor: string): Promise<{ version: number; previous: number | undefined }>;
  /** Re-applies the version that was active before the active one. `from` 0: none applied; `to` 0: nothing earlier. */
  rollback(): Promise<{ from: number; to: number }>;
  version(n: number): Promise<PolicyVersion | undefined>;
  close(): Promise<void>;
}

export interface ApiPolicyOptions extends FollowVia {
  readonly holder: PolicyHolder;
  readonly versions: PolicyVersions;
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly now: () => number;
  readonly pollIntervalMs?: number;
}

/**
 * Makes the policy applied through the admin API the active policy of this replica, and keeps it
 * following Redis (a pub/sub notice on every change, a load on every reconnect, a slow poll).
 * Which wins: an API policy, once one exists, on every replica and across restarts; the policy
 * file is the baseline only while none does. If Redis comes back without the API policy this
 * replica runs, the replica keeps running it and writes it back. Rejects when the first load fails,
 * or the active API policy does not compile here (a ConfigError naming the field: the process exits 2).
 */
export async function followApiPolicy(o: ApiPolicyOptions): Promise<ApiPolicy> {
  const { holder, versions, logger } = o;
  let starting = true;

  async function load(): Promise<void> {
    const active = await versions.active();
    const held = holder.origin();
    if (active === undefined) {
      if (held.source === 'api' && held.version !== undefined) await restore(held.version);
      return;
    }
    const record = await versions.get(active);
    if (record === undefined) {
      logger.error(
        { event: 'policy_version_missing', version: active },
        'the active API policy version is missing in redis; keeping the running policy',
      );
      return;
    }
    if (held.source === 'api' && held.version === record.version && holder.current().text === record.text) return;
    try {
      holder.apply(record.text, { source: 'api', version: record.version, actor: record.actor, time: record.time });
    } catch (error) {
      // Logged by the holder. Running: the running policy stays. Starting: refuse to start rather than run the file while the others run the API policy.
      if (starting) throw error;
    }
  }

  async function restore(version: number): Promise<void> {
    const policy = holder.current();
    const { actor = '', time = o.now() } = holder.origin();
    const restored = await versions.restore({ version, text: policy.text ?? '', hash: policy.hash, actor, time, previous: undefined });
    if (restored)
      logger.error(
        { event: 'policy_restored', version, hash: policy.hash },
        'redis held no API policy; wrote back the one this replica runs',
      );
  }

  const follower = await followRedis({
    redis: o.redis,
    follower: o.follower,
    subscriber: o.subscriber,
    channel: versions.channel,
    load,
    logger,
    what: 'API policy',
    ...(o.pollIntervalMs === undefined ? {} : { pollIntervalMs: o.pollIntervalMs }),
  });
  try {
    await follower.refresh();
  } catch (error) {
    await follower.stop();
    throw error;
  } finally {
    starting = false;
  }
  const settle = (): Promise<void> =>
    follower
      .refresh()
      .catch((error: unknown) =>
        logger.warn({ event: 'policy_refresh_failed', err: String(error) }, 'policy stored; this replica takes it at its next load'),
      );

  return {
    async apply(text, hash, actor) {
      const result = await versions.put({ text, hash, actor, time: o.now() });
      await settle();
      return result;
    },
    async rollback() {
      const result = await versions.rollback();
      if (result.to > 0) await settle();
      return result;
    },
    version: (n) => versions.get(n),
    close: () => follower.stop(),
  };
}
