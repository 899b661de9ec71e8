// Docker registry token endpoint (distribution docs/spec/auth/token.md):
// GET <realm>?service=..&scope=..[&scope=..] with optional HTTP Basic creds,
// answered with an ES256 JWT the registry verifies against `certFile`.
// distribution v2.8 accepts the signing key via `x5c` (a chain ending in a
// rootcertbundle cert) or via `kid` = libtrust key ID of a root cert's key;
// keys must be RSA or ECDSA (an Ed25519 root cert makes it panic at startup)
// and `aud` must be a plain string (the Debian 2.8.2 build rejects an array).
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';
import { makeSelfSigned } from './tls.ts';
import { libtrustKeyId, parseScope } from './token-scope.ts';
import type { Access } from './token-scope.ts';

export type { Access };

export interface TokenCall {
  scopes: string[];
  user: string | null;
  status: number;
}

export interface TokenIssuerOptions {
  /** Basic credentials; empty or absent = anonymous allowed (any creds accepted). */
  users?: Record<string, string>;
  expiresInSeconds?: number;
  service?: string;
  /** JWT header hint: `x5c` (cert chain, default) or `kid` (libtrust key ID only). */
  keyHint?: 'x5c' | 'kid';
}

export interface TokenIssuer {
  /** The realm, e.g. http://127.0.0.1:PORT/token */
  url: string;
  service: string;
  /** Value of the `iss` claim (registry config `auth.token.issuer`). */
  issuer: string;
  /** Self-signed signing certificate (PEM): the registry's rootcertbundle. */
  certFile: string;
  /** Its EC P-256 private key (PKCS#8 PEM), for forging tokens in tests. */
  keyFile: string;
  /** libtrust key ID of the signing key (the `kid` header). */
  keyId: string;
  /** Number of requests to the token endpoint (any outcome). */
  readonly requests: number;
  readonly calls: TokenCall[];
  /** Mint a token directly, bypassing HTTP (not counted in `requests`). */
  mint(access: Access[], subject?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTokenIssuer(options: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const users = options.users ?? {};
  const ttl = options.expiresInSeconds ?? 300;
  const service = options.service ?? 'trustgate-test-registry';
  const issuer = 'trustgate-test-issuer';
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-token-'));
  const { certFile, keyFile } = await makeSelfSigned(dir, 'token-signer', issuer);
  const certPem = await readFile(certFile, 'utf8');
  const cert = new X509Certificate(certPem);
  const spki = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  const keyId = libtrustKeyId(spki);
  const key = await importPKCS8(await readFile(keyFile, 'utf8'), 'ES256');
  const header =
    options.keyHint === 'kid'
      ? { alg: 'ES256', typ: 'JWT', kid: keyId }
      : { alg: 'ES256', typ: 'JWT', kid: keyId, x5c: [cert.raw.toString('base64')] };
  const calls: TokenCall[] = [];

  const mint = (access: Access[], subject = ''): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access })
      .setProtectedHeader(header)
      .setIssuer(issuer)
      .setSubject(subject)
      .setAudience(service)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID())
      .sign(key);
  };

  const send = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...extra });
    res.end(JSON.stringify(body));
  };
  const denied = (code: string, message: string) => ({ errors: [{ code, message }] });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/token') return send(res, 404, denied('NOT_FOUND', 'no such endpoint'));
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const call: TokenCall = { scopes, user: null, status: 0 };
    calls.push(call);
    const finish = (status: number, body: unknown, extra?: Record<string, string>): void => {
      call.status = status;
      send(res, status, body, extra);
    };
    if (req.method !== 'GET') return finish(405, denied('UNSUPPORTED', 'only GET is implemented'));
    const basicChallenge = { 'www-authenticate': 'Basic realm="trustgate-test-token"' };
    const auth = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (auth) {
      const decoded = Buffer.from(auth[1]!, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const user = sep < 0 ? decoded : decoded.slice(0, sep);
      call.user = user;
      if (Object.keys(users).length > 0 && users[user] !== decoded.slice(sep + 1)) {
        return finish(401, denied('UNAUTHORIZED', 'bad credentials'), basicChallenge);
      }
    } else if (Object.keys(users).length > 0) {
      return finish(401, denied('UNAUTHORIZED', 'credentials required'), basicChallenge);
    }
    const asked = url.searchParams.get('service');
    if (asked !== null && asked !== service) return finish(400, denied('DENIED', `unknown service ${asked}`));
    const access = scopes.map(parseScope).filter((a): a is Access => a !== null);
    const token = await mint(access, call.user ?? '');
    finish(200, { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, denied('UNKNOWN', String(err)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('token issuer: no port');

  return {
    url: `http://127.0.0.1:${address.port}/token`,
    service,
    issuer,
    certFile,
    keyFile,
    keyId,
    calls,
    mint,
    get requests() {
      return calls.length;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
