import type { z } from 'zod';
import { ConfigError } from './config-error.ts';

/** The first schema problem, as a ConfigError naming the field path (`upstreams[0].url`). */
export function fromZod(source: string, error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  const field = issue.path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`),
    '',
  );
  return new ConfigError(source, field, issue.message);
}
