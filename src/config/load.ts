// The convenience of both steps: parseConfig (pure) then readReferences (files and environment).
import { readFileSync } from 'node:fs';
import { ConfigError } from '../input/config-error.ts';
import { parseConfig, type EnvOverrides, type ParsedConfig } from './parse.ts';
import { readReferences, type Env } from './references.ts';
import type { Config } from './types.ts';

export interface LoadOptions {
  /** Where `{ env: NAME }` secrets are looked up; nothing else is read from it. Default: none. */
  readonly env?: Env;
  readonly overrides?: EnvOverrides;
}

/** Reads, validates and compiles one YAML file. Throws ConfigError naming the field on any problem. */
export function loadConfig(path: string, options: LoadOptions = {}): Config {
  return loadConfigText(readConfigFile(path), path, options);
}

/** Reads, validates and compiles one YAML file, leaving the secrets and files it names unread (refs.ts). */
export function loadParsedConfig(path: string, options: Pick<LoadOptions, 'overrides'> = {}): ParsedConfig {
  return parseConfig(readConfigFile(path), path, options.overrides === undefined ? {} : { overrides: options.overrides });
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, '', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** loadConfig for text already read: `source` names it in errors, and relative paths are relative to it. */
export function loadConfigText(text: string, source: string, options: LoadOptions = {}): Config {
  const parsed = parseConfig(text, source, options.overrides === undefined ? {} : { overrides: options.overrides });
  return readReferences(parsed, options.env ?? {});
}
