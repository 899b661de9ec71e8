import { readFileSync } from 'node:fs';
import { UsageError } from '../tools/usage-error.ts';
import { adminApi, type AdminApi } from './api-client.ts';

/** The flags every admin API command takes (admin-usage.ts, API_OPTIONS). */
export const API_FLAGS = {
  api: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'insecure-skip-tls': { type: 'boolean' },
  'ca-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ApiFlagValues {
  readonly api?: string | undefined;
  readonly token?: string | undefined;
  readonly 'token-file'?: string | undefined;
  readonly 'insecure-skip-tls'?: boolean | undefined;
  readonly 'ca-file'?: string | undefined;
}

const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/;

/** The API URL: --api, else TRUSTGATE_API. */
function apiUrl(values: ApiFlagValues, env: NodeJS.ProcessEnv): URL {
  const text = values.api ?? env['TRUSTGATE_API'];
  if (text === undefined || text === '')
    throw new UsageError("--api <url> (or TRUSTGATE_API) is required: trustgate's base URL, e.g. https://trustgate.example:5443");
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || !['http:', 'https:'].includes(url.protocol) || url.search !== '' || url.username !== '') {
    throw new UsageError(`--api "${text}": an http:// or https:// URL without query or credentials`);
  }
  return url;
}

/** The bearer token: --token, else --token-file, else TRUSTGATE_TOKEN. Never echoed. */
function tokenOf(values: ApiFlagValues, env: NodeJS.ProcessEnv): string {
  if (values.token !== undefined && values['token-file'] !== undefined) throw new UsageError('give --token or --token-file, not both');
  let token = values.token;
  if (token === undefined && values['token-file'] !== undefined) {
    try {
      token = readFileSync(values['token-file'], 'utf8');
    } catch (error) {
      throw new Error(`--token-file: cannot read "${values['token-file']}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  token = (token ?? env['TRUSTGATE_TOKEN'] ?? '').trim();
  if (token === '')
    throw new UsageError('no token: give --token-file <file>, --token <jwt> or set TRUSTGATE_TOKEN (`trustgate token mint` makes one)');
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(token)) throw new UsageError('the token is not a bearer token (a JWT: letters, digits and ".-_")');
  return token;
}

/** Opens the API the flags name, runs `run` on it, and closes it. */
export async function withApi<T>(values: ApiFlagValues, env: NodeJS.ProcessEnv, run: (api: AdminApi) => Promise<T>): Promise<T> {
  const base = apiUrl(values, env);
  const token = tokenOf(values, env);
  let ca: Buffer | undefined;
  if (values['ca-file'] !== undefined) {
    try {
      ca = readFileSync(values['ca-file']);
    } catch (error) {
      throw new Error(`--ca-file: cannot read "${values['ca-file']}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (base.protocol === 'http:' && !LOOPBACK.test(base.hostname)) {
    process.stderr.write(`warning: the admin token goes over plain HTTP to ${base.host}; use https:// outside this machine\n`);
  }
  const api = adminApi({ base, token, insecureSkipTls: values['insecure-skip-tls'] ?? false, ...(ca === undefined ? {} : { ca }) });
  try {
    return await run(api);
  } finally {
    await api.close();
  }
}
