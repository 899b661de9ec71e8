import { createRedisProbe, type RedisHealth } from '../redis/probe.ts';
import type { RedisClient } from '../redis/connection.ts';
import type { UpstreamHealth } from '../upstream/outcomes.ts';

/**
 * The dependency health a ready replica reports in `/readyz`'s body (and metrics read, e.g.
 * `trustgate_redis_up`). None of it makes the replica unready (docs/design.md §5): with Redis or an
 * upstream down, a replica keeps serving what it can, and so does every other replica.
 */
export interface HealthReport {
  readonly redis: RedisHealth | 'not configured';
  readonly upstreams: Readonly<Record<string, UpstreamHealth>>;
  readonly trust: { readonly version: number; readonly entries: number };
  readonly policy: { readonly hash: string; readonly rules: number };
}

export interface HealthProvider {
  /** Never rejects. Redis is PINGed at most about once a second however often this is called. */
  report(): Promise<HealthReport>;
  redis(): Promise<HealthReport['redis']>;
}

export interface HealthSources {
  /** The command connection, when Redis is configured. */
  readonly redis: RedisClient | undefined;
  readonly upstreams: { health(): Record<string, UpstreamHealth> };
  readonly trust: { snapshot(): { readonly version: number; readonly entries: readonly unknown[] } };
  readonly policy: { current(): { readonly hash: string; readonly rules: readonly unknown[] } };
}

export function createHealthProvider(sources: HealthSources): HealthProvider {
  const probe = sources.redis === undefined ? undefined : createRedisProbe(sources.redis);
  const redis = async (): Promise<HealthReport['redis']> => (probe === undefined ? 'not configured' : probe());
  return {
    redis,
    async report() {
      const trust = sources.trust.snapshot();
      const policy = sources.policy.current();
      return {
        redis: await redis(),
        upstreams: sources.upstreams.health(),
        trust: { version: trust.version, entries: trust.entries.length },
        policy: { hash: policy.hash, rules: policy.rules.length },
      };
    },
  };
}
