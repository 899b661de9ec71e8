/**
 * An admin API call that did not succeed, with the exit code a script can rely on: 1 when the
 * server refused or failed (its message is in ours), 3 when the API could not be reached at all.
 * `status` and `body` are the server's answer, when there was one.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly exitCode: 1 | 3,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}
