/** A wrong invocation (missing or bad flag, unknown command): the CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
