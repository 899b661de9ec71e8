import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startServer, type FakeServer } from './fake-server.ts';

export interface TokenRegistryOptions {
  /** Realm to name in challenges; defaults to this server's `/token`. */
  readonly realm?: (server: FakeServer) => string;
  /** Body of the token response for token number `n` (1-based). */
  readonly tokenBody?: (n: number, req: IncomingMessage) => Record<string, unknown>;
  /** Delay before the token endpoint answers, to make concurrent fetches overlap. */
  readonly tokenDelayMs?: number;
}

export interface TokenRegistry extends FakeServer {
  /** Tokens the registry accepts; remove one to revoke it. */
  readonly valid: Set<string>;
}

/**
 * A registry that answers `/v2/...` with 401 and a Bearer challenge unless the request carries a
 * token its `/token` endpoint issued (`tok-1`, `tok-2`, …), in which case it answers 200 `ok`.
 */
export async function startTokenRegistry(options: TokenRegistryOptions = {}): Promise<TokenRegistry> {
  const valid = new Set<string>();
  let issued = 0;
  const server = await startServer(async (req: IncomingMessage, res: ServerResponse, self: FakeServer) => {
    const url = new URL(req.url ?? '/', self.origin);
    if (url.pathname === '/token') {
      if (options.tokenDelayMs !== undefined) await new Promise((r) => setTimeout(r, options.tokenDelayMs));
      issued += 1;
      const body = options.tokenBody?.(issued, req) ?? { token: `tok-${issued}`, expires_in: 300 };
      const token = (body['token'] ?? body['access_token']) as string;
      valid.add(token);
      sendJson(res, 200, body);
      return;
    }
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Bearer ') && valid.has(auth.slice(7))) {
      res.writeHead(200, { 'content-type': 'text/plain', 'docker-distribution-api-version': 'registry/2.0' });
      res.end(req.method === 'HEAD' ? undefined : 'ok');
      return;
    }
    const realm = options.realm?.(self) ?? `${self.origin}/token`;
    sendJson(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      {
        'www-authenticate': `Bearer realm="${realm}",service="fake-registry",scope="repository:library/app:pull"`,
      },
    );
  });
  return Object.assign(server, { valid });
}
