// The one way the console talks to trustgate: same-origin /admin/v1, the token in the
// Authorization header only, no cookies, no caching. Answers are JSON read as data; nothing
// from them is ever parsed as HTML (the pages render strings as text nodes).

export type ApiProblem = 'unauthorized' | 'forbidden' | 'invalid' | 'failed' | 'unreachable';

export class ApiError extends Error {
  constructor(
    readonly problem: ApiProblem,
    readonly status: number,
    message: string,
    /** Admin validation answers: `errors: [{ field, message }]`. */
    readonly fields: readonly { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
}

/**
 * `token()` gives the current bearer token; `onUnauthorized` is told of a 401 (the token was
 * refused or has expired: the app signs out).
 */
export function createApi(token: () => string | undefined, onUnauthorized: (message: string) => void): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!path.startsWith('/') || path.startsWith('//')) throw new TypeError(`an admin API path, not ${path}`);
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`/admin/v1${path}`, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError('unreachable', 0, 'trustgate could not be reached.');
    }
    const answer = await readJson(res);
    if (res.ok) return answer as T;
    const { message, fields } = describe(answer, res.status);
    if (res.status === 401) {
      onUnauthorized(message);
      throw new ApiError('unauthorized', 401, message);
    }
    if (res.status === 403) throw new ApiError('forbidden', 403, message);
    if (res.status === 400 || res.status === 409 || res.status === 404) throw new ApiError('invalid', res.status, message, fields);
    throw new ApiError('failed', res.status, message, fields);
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    del: (path) => call('DELETE', path),
  };
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The server's own words: an OCI error body `{ errors: [{ code, message }] }` or `{ errors: [{ field, message }] }`. */
function describe(answer: unknown, status: number): { message: string; fields: { field: string; message: string }[] } {
  const errors = (answer as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return { message: `trustgate answered HTTP ${status}.`, fields: [] };
  const fields: { field: string; message: string }[] = [];
  const messages: string[] = [];
  for (const e of errors as Record<string, unknown>[]) {
    const message = typeof e['message'] === 'string' ? e['message'] : '';
    if (typeof e['field'] === 'string') fields.push({ field: e['field'], message });
    messages.push(typeof e['field'] === 'string' ? `${e['field']}: ${message}` : message);
  }
  return { message: messages.filter((m) => m !== '').join('; ') || `trustgate answered HTTP ${status}.`, fields };
}
