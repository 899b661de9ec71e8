import { printable } from '../oci/reference.ts';

// Posting a report to trustgate's admin API: POST /admin/v1/scans?image=<name>@<digest>, role scanner.

export interface PostTarget {
  /** trustgate's base URL, e.g. https://trustgate.example:5443. */
  readonly api: string;
  /** The bearer token (role `scanner`); asked for on each post, so a token file can be rotated. */
  readonly token: () => string;
  readonly timeoutMs: number;
}

/**
 * - `stored`: 2xx, done;
 * - `refused`: the API refused this report (a 4xx about the request); posting it again will not help;
 * - `retry`: worth trying later: 5xx, a network failure, a timeout, or a refused token (401/403),
 *   which is the worker's problem, not the report's.
 */
export type PostOutcome =
  | { readonly kind: 'stored'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'refused' | 'retry'; readonly status: number | undefined; readonly problem: string };

const RETRYABLE_4XX: ReadonlySet<number> = new Set([401, 403, 408, 429]);

export function scansUrl(api: string, image: string): string {
  return `${api.replace(/\/+$/, '')}/admin/v1/scans?image=${encodeURIComponent(image)}`;
}

/** Never rejects; the token appears in no outcome. */
export async function postReport(to: PostTarget, image: string, report: Buffer): Promise<PostOutcome> {
  let token: string;
  try {
    token = to.token();
  } catch (error) {
    return { kind: 'retry', status: undefined, problem: `the scanner token could not be read: ${describeError(error)}` };
  }
  let response: Response;
  try {
    response = await fetch(scansUrl(to.api, image), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: report,
      signal: AbortSignal.timeout(to.timeoutMs),
    });
  } catch (error) {
    return { kind: 'retry', status: undefined, problem: `POST to the admin API failed: ${describeError(error)}` };
  }
  const text = await response.text().catch(() => '');
  const body = parseJson(text);
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'stored', status, body };
  const problem = `the admin API answered ${status}: ${errorMessage(body) ?? printable(text, 300)}`;
  return { kind: status >= 400 && status < 500 && !RETRYABLE_4XX.has(status) ? 'refused' : 'retry', status, problem };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The OCI-style `{"errors":[{"message":…}]}` trustgate answers with. */
function errorMessage(body: unknown): string | undefined {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { message?: unknown } | undefined) : undefined;
  return typeof first?.message === 'string' ? printable(first.message, 500) : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return printable(cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)), 200);
}
