export { parseConfig, type EnvOverrides, type ParsedConfig } from './parse.ts';
export { readReferences } from './references.ts';
export { loadConfig, loadConfigText } from './load.ts';
export { configFlags, DEFAULT_CONFIG_PATH, planConfig, resolveConfig, type ConfigFlags } from './resolve.ts';
export { ConfigError } from '../input/config-error.ts';
export { Secret } from './secret.ts';
export type { Config, UpstreamConfig, UpstreamCredentials, ListenConfig } from './types.ts';
