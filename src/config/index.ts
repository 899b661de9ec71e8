import { resolve } from 'node:path';
import { loadConfig } from './load.ts';
import type { Config } from './types.ts';

export { loadConfig, parseConfig } from './load.ts';
export { ConfigError } from '../input/config-error.ts';
export { Secret } from './secret.ts';
export type { Config, UpstreamConfig, UpstreamCredentials, ListenConfig } from './types.ts';

export const DEFAULT_CONFIG_PATH = 'config/trustgate.yaml';

/** The only place that reads process.argv and process.env. */
export function configFromProcess(argv: readonly string[] = process.argv.slice(2), env = process.env): Config {
  const flag = argv.findIndex((arg) => arg === '--config' || arg.startsWith('--config='));
  const fromFlag = flag === -1 ? undefined : argv[flag]!.includes('=') ? argv[flag]!.split('=')[1] : argv[flag + 1];
  const path = resolve(fromFlag ?? env['TRUSTGATE_CONFIG'] ?? DEFAULT_CONFIG_PATH);
  return loadConfig(path, {
    env,
    overrides: {
      ...(env['TRUSTGATE_LISTEN'] ? { listen: env['TRUSTGATE_LISTEN'] } : {}),
      ...(env['TRUSTGATE_REDIS_URL'] ? { redisUrl: env['TRUSTGATE_REDIS_URL'] } : {}),
      ...(env['TRUSTGATE_LOG_LEVEL'] ? { logLevel: env['TRUSTGATE_LOG_LEVEL'] } : {}),
    },
  });
}
