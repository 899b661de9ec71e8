import { TrustgateError } from '../errors/errors.ts';
import type { UpstreamConfig } from '../config/types.ts';
import { withRetries, type Logger } from './retry.ts';
import { expiryOf, type IssuedToken } from './token-cache.ts';
import type { Transport } from './transport.ts';

export interface TokenRequest {
  /** Already checked by `allowedRealm`. */
  readonly realm: URL;
  readonly service: string;
  readonly scope: string;
  /** `Basic …` when the upstream has basic credentials. */
  readonly authorization?: string | undefined;
}

export interface TokenEndpointDeps {
  readonly config: UpstreamConfig;
  readonly transport: Transport;
  readonly now: () => number;
  readonly logger?: Logger | undefined;
}

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** Printable ASCII, no spaces: anything else could not go into a header anyway. */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,65536}$/;

/** Docker token auth: `GET <realm>?service=…&scope=…`, with HTTP Basic when credentials are configured. */
export async function fetchToken(deps: TokenEndpointDeps, request: TokenRequest): Promise<IssuedToken> {
  const { config, transport } = deps;
  const url = new URL(request.realm.href);
  if (request.service !== '') url.searchParams.set('service', request.service);
  if (request.scope !== '') url.searchParams.append('scope', request.scope);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.authorization !== undefined) headers['authorization'] = request.authorization;
  const requestedAt = deps.now();
  const response = await withRetries(
    () =>
      transport.send({
        method: 'GET',
        origin: url.origin,
        path: url.pathname + url.search,
        headers,
        maxBytes: MAX_TOKEN_RESPONSE_BYTES,
      }),
    { config, logger: deps.logger },
  );
  const name = JSON.stringify(config.name);
  if (response.status !== 200) {
    throw new TrustgateError(
      'UPSTREAM_BAD_RESPONSE',
      `upstream ${name}: the token endpoint answered ${response.status}` +
        (response.status === 401 || response.status === 403 ? ' (are the configured credentials right?)' : ''),
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const token = nonEmptyString(body['token']) ?? nonEmptyString(body['access_token']);
  if (token === undefined || !TOKEN_SHAPE.test(token)) {
    throw new TrustgateError('UPSTREAM_BAD_RESPONSE', `upstream ${name}: the token endpoint sent no usable token`);
  }
  return { token, expiresAt: expiryOf(body['expires_in'], body['issued_at'], requestedAt) };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
