import { pino } from 'pino';

/** The narrow logging surface the rest of trustgate depends on; the default does nothing. */
export interface Logger {
  debug(record: object, message?: string): void;
  info(record: object, message?: string): void;
  warn(record: object, message?: string): void;
  error(record: object, message?: string): void;
}

const noop = (): void => {};
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Structured JSON logs on stdout. Authorization and cookies are redacted wherever they appear. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'trustgate' },
    redact: { paths: ['*.authorization', '*.headers.authorization', '*.cookie', '*.password', '*.token'], censor: '[redacted]' },
  });
}
