import { ConfigError } from '../input/config-error.ts';
import { resolveConfig } from '../config/resolve.ts';
import type { Config } from '../config/types.ts';
import { scrubSecrets } from '../log/scrub.ts';
import { noopLogger } from '../log/logger.ts';
import { parsePolicy } from '../policy/parse.ts';
import { checkSetup } from '../policy/setup-check.ts';
import type { Policy } from '../policy/types.ts';
import { loadPolicy } from '../policy-store/policy-file.ts';
import { redisPolicyVersions } from '../policy-store/redis-policy-versions.ts';
import { createRedis, parseRedisUrl, type RedisClient } from '../redis/connection.ts';
import { setupFacts } from '../runtime/setup-check.ts';
import { readProspectiveTrust, type ProspectiveTrust } from '../trust-store/prospective-trust.ts';
import { parseTrustedIdentity } from '../verify/notation/index.ts';
import { noPositionals, parseFlags } from './args.ts';
import { listenerTls, trustCertificates, upstreamChecks } from './doctor-checks.ts';
import type { Line } from './doctor-line.ts';
import { redisChecks } from './doctor-redis.ts';
import { DOCTOR_USAGE } from './usage.ts';

// trustgate doctor: a deployment checked from its config, one line per check (ok, warn, fail).
// Nothing is written anywhere, and no secret is printed (doctorCommand's last step).

export async function doctorCommand(args: readonly string[], print: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    print(DOCTOR_USAGE);
    return 0;
  }
  noPositionals(positionals);
  let lines: Line[];
  let secrets: string[] = [];
  try {
    const config = resolveConfig({ config: values.config }, env);
    secrets = secretsOf(config);
    lines = await diagnose(config, Date.now);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    lines = [{ status: 'fail', check: 'config', detail: error.message }];
  }
  const hide = redactor(secrets);
  for (const line of lines) print(hide(`${line.status.padEnd(4)} ${line.check}: ${line.detail}`));
  return lines.some((l) => l.status === 'fail') ? 1 : 0;
}

async function diagnose(config: Config, now: () => number): Promise<Line[]> {
  const redis = config.redis.url === undefined ? undefined : createRedis(config.redis.url, { logger: noopLogger });
  try {
    const [redisLines, upstreamLines] = await Promise.all([
      redis === undefined ? Promise.resolve<Line[]>([]) : redisChecks(redis, config.redis.url!),
      Promise.all(config.upstreams.map((u) => upstreamChecks(u, now))),
    ]);
    const redisDown = redis !== undefined && redis.status !== 'ready';
    const trust = redisDown
      ? new Error('Redis is not reachable (see the redis line), so the trust store cannot be read')
      : await readProspectiveTrust(config, { ...(redis === undefined ? {} : { redis }) }).catch((error: unknown) => error as Error);
    return [
      { status: 'ok', check: 'config', detail: config.source },
      ...(await setupChecks(config, trust, redis, now())),
      ...(redis === undefined
        ? [{ status: 'ok' as const, check: 'redis', detail: 'not configured: each replica keeps its state in its own memory' }]
        : redisLines),
      ...upstreamLines.flat(),
      listenerTls(config, now()),
      trustCertificates(trust, now()),
    ];
  } finally {
    redis?.disconnect();
  }
}

/** The checks at start (policy/setup-check.ts) on the policy that runs (with Redis, an API policy wins) against the trust store as it will be. */
async function setupChecks(config: Config, trust: ProspectiveTrust | Error, redis: RedisClient | undefined, now: number): Promise<Line[]> {
  if (trust instanceof Error) return [{ status: 'fail', check: 'setup', detail: `trust store: ${trust.message}` }];
  let policy: Policy;
  let from: string;
  try {
    ({ policy, from } = await activePolicy(config, redis));
  } catch (error) {
    return [{ status: 'fail', check: 'setup', detail: `policy: ${(error as Error).message}` }];
  }
  const problems = checkSetup(policy, setupFacts(config, trust.snapshot, now));
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const summary = `policy ${policy.hash} from ${from} (${count(policy.rules.length, 'rule', 'rules')}) against ${trust.sources.join(' and ')} (${count(trust.snapshot.entries.length, 'entry', 'entries')})`;
  if (problems.length === 0) return [{ status: 'ok', check: 'setup', detail: `${summary}: no problems` }];
  return problems.map((p) => ({ status: p.severity === 'error' ? 'fail' : 'warn', check: 'setup', detail: `${p.field}: ${p.message}` }));
}

async function activePolicy(config: Config, redis: RedisClient | undefined): Promise<{ policy: Policy; from: string }> {
  const identity = (text: string): void => void parseTrustedIdentity(text);
  if (redis !== undefined) {
    const versions = redisPolicyVersions(redis, config.redis.prefix);
    const active = await versions.active();
    const record = active === undefined ? undefined : await versions.get(active);
    if (record !== undefined) {
      const source = `admin API policy v${record.version}`;
      return { policy: parsePolicy(record.text, source, identity), from: source };
    }
  }
  return { policy: loadPolicy(config.policyFile, identity), from: config.policyFile };
}

/** Every secret the config holds, to be sure none is ever printed (the output is scrubbed as log lines are, too). */
function secretsOf(config: Config): string[] {
  const secrets = config.upstreams.flatMap((u) =>
    u.credentials.type === 'basic'
      ? [u.credentials.password.reveal()]
      : u.credentials.type === 'bearer'
        ? [u.credentials.token.reveal()]
        : [],
  );
  if (config.redis.url !== undefined) {
    const password = parseRedisUrl(config.redis.url).password?.reveal();
    if (password !== undefined) secrets.push(password, encodeURIComponent(password));
  }
  if (config.pullAuth !== undefined) secrets.push(config.pullAuth.signingKey.reveal());
  return secrets.filter((s) => s.length >= 4);
}

function redactor(secrets: readonly string[]): (line: string) => string {
  return (line) => secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), scrubSecrets(line));
}
