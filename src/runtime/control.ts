import type { ControlDeps } from '../admin/control-routes.ts';
import type { AuditLog } from '../audit/types.ts';
import type { Config } from '../config/types.ts';
import { createMemoryBreakGlassStore } from '../breakglass/entries.ts';
import { withBreakGlass } from '../gate/break-glass-gate.ts';
import { createMemoryDecisionLog, recordingDecisions } from '../gate/decision-log.ts';
import type { Gate } from '../gate/types.ts';
import type { Logger } from '../log/logger.ts';
import type { PolicyHolder, PolicyHolderOptions } from '../policy-store/holder.ts';
import { parsePolicy } from '../policy/parse.ts';
import { followApiPolicy } from '../policy-store/api-policy.ts';
import { createRedisBreakGlassStore } from '../breakglass/redis-break-glass.ts';
import { connectRedis, createRedis, type RedisClient } from '../redis/connection.ts';
import { createRedisDecisionLog } from '../gate/redis-decision-log.ts';
import { redisPolicyVersions } from '../policy-store/redis-policy-versions.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';

/** How the policy holder compiles policy text from the admin API: the same checks as the file. */
export const POLICY_TEXT: PolicyHolderOptions = {
  compile: (text, source) => parsePolicy(text, source, (identity) => void parseTrustedIdentity(identity)),
};

/** The API policy, break glass and decision records of one replica. */
export interface Control extends Omit<ControlDeps, 'gate' | 'policy'> {
  /** The gate pulls go through: break glass around it, and a record of each decision. */
  wrap(gate: Gate, audit: AuditLog): Gate;
  close(): Promise<void>;
}

export interface ControlOptions {
  readonly config: Config;
  /** The shared command connection, when Redis is configured. */
  readonly redis: RedisClient | undefined;
  readonly prefix: string;
  readonly policy: PolicyHolder;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * With Redis: the API policy (made active on this replica before this resolves), break-glass
 * entries and decision records shared by every replica, followed over one more subscriber
 * connection. Without: no API policy (changes answer 409), and break glass and decision records
 * in this process's memory.
 */
export async function openControl(o: ControlOptions): Promise<Control> {
  const { logger, now } = o;
  const memory = createMemoryDecisionLog();
  const wrapWith =
    (control: Omit<Control, 'wrap'>) =>
    (gate: Gate, audit: AuditLog): Gate =>
      recordingDecisions(withBreakGlass(gate, { entries: control.breakGlass, now, logger, audit }), control.decisions, now);
  if (o.redis === undefined || o.config.redis.url === undefined) {
    const control = { apiPolicy: undefined, breakGlass: createMemoryBreakGlassStore(), decisions: memory, close: async () => {} };
    logger.info({ event: 'break_glass_local' }, 'break-glass entries live in this process only (no redis.url): each replica has its own');
    return { ...control, wrap: wrapWith(control) };
  }
  const subscriber = createRedis(o.config.redis.url, { logger });
  try {
    await connectRedis(subscriber);
    const apiPolicy = await followApiPolicy({
      holder: o.policy,
      versions: redisPolicyVersions(o.redis, o.prefix),
      redis: o.redis,
      subscriber,
      logger,
      now,
    });
    const breakGlass = await createRedisBreakGlassStore({ redis: o.redis, subscriber, prefix: o.prefix, logger, now }).catch(
      async (error: unknown) => {
        await apiPolicy.close();
        throw error;
      },
    );
    const control = {
      apiPolicy,
      breakGlass,
      decisions: createRedisDecisionLog({
        redis: o.redis,
        prefix: o.prefix,
        memory,
        logger,
        maxDigests: o.config.gate.decisionLog.maxDigests,
      }),
      async close() {
        await apiPolicy.close();
        await breakGlass.close();
        subscriber.disconnect();
      },
    };
    return { ...control, wrap: wrapWith(control) };
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
}
