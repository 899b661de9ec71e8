// The resolver: where the proxy and every CLI command get their Config. It is the one place that
// reads trustgate's TRUSTGATE_* configuration variables (config/README.md, "Environment overrides").
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadConfig, loadParsedConfig } from './load.ts';
import type { EnvOverrides, ParsedConfig } from './parse.ts';
import type { Env } from './references.ts';
import type { Config } from './types.ts';

export const DEFAULT_CONFIG_PATH = 'config/trustgate.yaml';

/** The flags that bear on the config, as a command parsed them from its argv. */
export interface ConfigFlags {
  readonly config?: string | undefined;
}

export interface ConfigPlan {
  /** As given (relative to the working directory, or absolute). */
  readonly path: string;
  readonly overrides: EnvOverrides;
}

/** Which file and which overrides: --config, else TRUSTGATE_CONFIG, else the default; each override only when its variable is non-empty. */
export function planConfig(flags: ConfigFlags, env: Env): ConfigPlan {
  const set = (name: string): string | undefined => (env[name] ? env[name] : undefined);
  const listen = set('TRUSTGATE_LISTEN');
  const redisUrl = set('TRUSTGATE_REDIS_URL');
  const logLevel = set('TRUSTGATE_LOG_LEVEL');
  return {
    // An empty TRUSTGATE_CONFIG stays (and fails to read) rather than quietly meaning the default file.
    path: flags.config ?? env['TRUSTGATE_CONFIG'] ?? DEFAULT_CONFIG_PATH,
    overrides: {
      ...(listen === undefined ? {} : { listen }),
      ...(redisUrl === undefined ? {} : { redisUrl }),
      ...(logLevel === undefined ? {} : { logLevel }),
    },
  };
}

/** The Config for these flags and this environment (its secrets' variables are looked up in `env` too). */
export function resolveConfig(flags: ConfigFlags, env: Env): Config {
  const plan = planConfig(flags, env);
  return loadConfig(resolve(plan.path), { env, overrides: plan.overrides });
}

/**
 * The same file and overrides as resolveConfig, parsed and checked, but with the secrets and files
 * it names still unread: for a command that needs none of them (`trustgate policy check --config`),
 * so it runs where the proxy's secrets are not.
 */
export function resolveParsedConfig(flags: ConfigFlags, env: Env): ParsedConfig {
  const plan = planConfig(flags, env);
  return loadParsedConfig(resolve(plan.path), { overrides: plan.overrides });
}

/** `--config <file>` or `--config=<file>` from the proxy's argv (`node dist/main.js`); anything else is ignored, as it always was. */
export function configFlags(argv: readonly string[]): ConfigFlags {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string' } }, strict: false, allowPositionals: true });
  return typeof values.config === 'string' ? { config: values.config } : {};
}
