import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { printable } from '../oci/reference.ts';
import { ApiError } from './api-error.ts';

// The admin API client of the CLI commands: one request per call, JSON or YAML in, JSON out.
// The token goes in the Authorization header only, to the --api origin only (redirects are not
// followed), and appears in no message.

export interface ApiTarget {
  /** trustgate's base URL, e.g. https://trustgate.example:5443. */
  readonly base: URL;
  readonly token: string;
  readonly insecureSkipTls: boolean;
  readonly ca?: Buffer;
  readonly timeoutMs?: number;
}

export interface ApiCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under /admin/v1, e.g. `/keys/dev/revoke`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly json?: unknown;
  readonly yaml?: string;
}

export interface AdminApi {
  call(call: ApiCall): Promise<unknown>;
  close(): Promise<void>;
}

export function adminApi(target: ApiTarget): AdminApi {
  const dispatcher: Dispatcher = new Agent({
    connect: { rejectUnauthorized: !target.insecureSkipTls, ...(target.ca === undefined ? {} : { ca: target.ca }) },
  });
  return { call: (call) => send(target, dispatcher, call), close: () => dispatcher.close() };
}

function urlOf(base: URL, call: ApiCall): URL {
  const url = new URL(`${base.href.replace(/\/+$/, '')}/admin/v1${call.path}`);
  for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

async function send(target: ApiTarget, dispatcher: Dispatcher, call: ApiCall): Promise<unknown> {
  const url = urlOf(target.base, call);
  const what = `${call.method} ${url.pathname}`;
  const body = call.json !== undefined ? JSON.stringify(call.json) : call.yaml;
  const type = call.json !== undefined ? 'application/json' : call.yaml !== undefined ? 'application/yaml' : undefined;
  let res: Response;
  try {
    res = await fetch(url, {
      method: call.method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(type === undefined ? {} : { 'content-type': type }),
      },
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      dispatcher,
      signal: AbortSignal.timeout(target.timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new ApiError(`cannot reach the admin API at ${target.base.origin}: ${networkProblem(error)}`, 3);
  }
  const text = await res.text().catch(() => '');
  const json = parseJson(text);
  if (res.status >= 200 && res.status < 300) {
    if (json === undefined && text !== '')
      throw new ApiError(`${what}: the answer (${res.status}) is not JSON; is --api trustgate's URL?`, 1);
    return json ?? {};
  }
  throw new ApiError(refusal(res, what, json, text), 1, res.status, json);
}

function refusal(res: Response, what: string, json: unknown, text: string): string {
  const message = serverMessage(json) ?? (text === '' ? '' : printable(text.trim(), 300));
  const said = message === '' ? '' : `: ${message}`;
  if (res.status === 401)
    return `unauthorized (401): ${what}${said}. Check the token (--token-file, --token or TRUSTGATE_TOKEN): expired, or not signed by a key this trustgate trusts`;
  if (res.status === 403) return `forbidden (403): ${what}${said}`;
  if (res.status >= 300 && res.status < 400)
    return `${what}: the server answered ${res.status} (a redirect to ${printable(res.headers.get('location') ?? '?', 200)}); pass the URL it names as --api`;
  if (res.status === 404 && /no such admin endpoint/.test(message)) return `${what}: this trustgate has no such endpoint (404)${said}`;
  return `${res.status >= 500 ? 'the server failed' : 'the server refused'} (${res.status}): ${what}${said}`;
}

/** The `{"errors":[{"code","message"}]}` trustgate answers with. */
function serverMessage(json: unknown): string | undefined {
  const errors = (json as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { message?: unknown } | undefined) : undefined;
  return typeof first?.message === 'string' ? printable(first.message, 1_000) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const TLS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/;

function networkProblem(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'no answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const text = printable(code !== '' ? code : (cause?.message ?? String(error)), 200);
  return TLS.test(code) || /certificate/i.test(cause?.message ?? '') ? `${text} (a private CA: --ca-file <pem>)` : text;
}
