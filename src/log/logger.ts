import { pino, type DestinationStream } from 'pino';
import { scrubSecrets } from './scrub.ts';

/** The narrow logging surface the rest of trustgate depends on; the default does nothing. */
export interface Logger {
  debug(record: object, message?: string): void;
  info(record: object, message?: string): void;
  warn(record: object, message?: string): void;
  error(record: object, message?: string): void;
  /**
   * Whether a record at `level` would be written (pino has it). Hot paths ask before they build a
   * record the level would drop; a logger without it writes every level.
   */
  isLevelEnabled?(level: LogLevel): boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Whether `logger` writes records at `level`: build a per-request record only when this is true. */
export function logsAt(logger: Logger, level: LogLevel): boolean {
  return logger.isLevelEnabled?.(level) ?? true;
}

const noop = (): void => {};
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop, isLevelEnabled: () => false });

/**
 * Structured JSON logs on stdout (or `destination`). Every line is scrubbed of credentials before
 * it is written (scrub.ts): fields named like credentials (authorization, cookie, password, token…)
 * at any depth, and credentials inside text (URL userinfo, `?token=`, Bearer/Basic values, JWTs,
 * private keys).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'trustgate' }, hooks: { streamWrite: scrubSecrets } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
