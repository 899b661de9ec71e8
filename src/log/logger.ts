import { pino, type DestinationStream } from 'pino';
import { scrubSecrets } from './scrub.ts';

/** The narrow logging surface the rest of trustgate depends on; the default does nothing. */
export interface Logger {
  debug(record: object, message?: string): void;
  info(record: object, message?: string): void;
  warn(record: object, message?: string): void;
  error(record: object, message?: string): void;
}

const noop = (): void => {};
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

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
