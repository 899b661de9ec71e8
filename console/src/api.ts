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
    /** The answer's JSON body, as sent (the policy routes' `{ ok: false, errors: [{ field, message, line }] }`). */
    readonly answer?: unknown,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  /** A text body with its own content type (policy YAML: `application/yaml`). */
  text<T>(method: 'POST' | 'PUT', path: string, body: string, type: string): Promise<T>;
  /** A file answer (`Content-Disposition: attachment`), fetched with the bearer header: never a token in a URL. */
  download(path: string): Promise<{ blob: Blob; filename: string | undefined }>;
}

/**
 * `token()` gives the current bearer token; `onUnauthorized` is told of a 401 (the token was
 * refused or has expired: the app signs out).
 */
export function createApi(token: () => string | undefined, onUnauthorized: (message: string) => void): Api {
  async function send(method: string, path: string, body?: unknown, type?: string): Promise<Response> {
    if (!path.startsWith('/') || path.startsWith('//')) throw new TypeError(`an admin API path, not ${path}`);
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = type ?? 'application/json';
    try {
      return await fetch(`/admin/v1${path}`, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
        ...(body === undefined ? {} : { body: type === undefined ? JSON.stringify(body) : String(body) }),
      });
    } catch {
      throw new ApiError('unreachable', 0, 'trustgate could not be reached.');
    }
  }
  async function call<T>(method: string, path: string, body?: unknown, type?: string): Promise<T> {
    const res = await send(method, path, body, type);
    const answer = await readJson(res);
    if (res.ok) return answer as T;
    throw refused(res.status, answer);
  }
  /** The error for a refused call; a 401 also tells the app (which signs out). */
  function refused(status: number, answer: unknown): ApiError {
    const { message, fields } = describe(answer, status);
    if (status === 401) {
      onUnauthorized(message);
      return new ApiError('unauthorized', 401, message);
    }
    if (status === 403) return new ApiError('forbidden', 403, message);
    if (status === 400 || status === 409 || status === 404) return new ApiError('invalid', status, message, fields, answer);
    return new ApiError('failed', status, message, fields, answer);
  }
  async function download(path: string): Promise<{ blob: Blob; filename: string | undefined }> {
    const res = await send('GET', path);
    if (!res.ok) throw refused(res.status, await readJson(res));
    // Only a plain file name from Content-Disposition; anything else gets the page's default name.
    const filename = /filename="([A-Za-z0-9._:-]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
    return { blob: await res.blob(), filename };
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    del: (path) => call('DELETE', path),
    text: (method, path, body, type) => call(method, path, body, type),
    download,
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
