import type { Request, Response, Router } from 'express';
import type { AdminConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';

/*
 * GET /admin/v1/console/config, without a token: what the console needs to sign in with OIDC
 * (authorization code + PKCE) before it holds one. Only public values: the issuer, audience,
 * client id, redirect URI, scopes and the issuer's endpoints; never a key, a secret or a token.
 * Endpoints not configured are read from the issuer's discovery document (OpenID Connect
 * Discovery 1.0 §4), once per DISCOVERY_TTL_MS, one fetch at a time.
 */

const DISCOVERY_TTL_MS = 10 * 60_000;
const FAILURE_TTL_MS = 30_000;
const DISCOVERY_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 65_536;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export interface ConsoleConfigDeps {
  readonly admin: AdminConfig | undefined;
  readonly logger: Logger;
  readonly now: () => number;
  /** The fetch used for discovery; the global fetch unless a test passes another. */
  readonly fetch?: typeof fetch;
}

interface Endpoints {
  readonly authorizationEndpoint: string | null;
  readonly tokenEndpoint: string | null;
  readonly discovery: 'configured' | 'discovered' | 'failed';
}

const usableUrl = (text: unknown): text is string => {
  if (typeof text !== 'string' || text.length > 2048) return false;
  try {
    const url = new URL(text);
    return url.hash === '' && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)));
  } catch {
    return false;
  }
};

export function registerConsoleConfigRoute(router: Router, deps: ConsoleConfigDeps): void {
  const discover = discovery(deps);
  router.get('/console/config', async (_req: Request, res: Response) => {
    const admin = deps.admin;
    res.setHeader('cache-control', 'no-store');
    if (admin === undefined || !admin.console.enabled) {
      res.json({ enabled: false });
      return;
    }
    const oidc = admin.console.oidc;
    const base = { enabled: true, issuer: admin.issuer, audience: admin.audience, oidcConfigured: oidc !== undefined };
    if (oidc === undefined) {
      res.json(base);
      return;
    }
    const endpoints =
      oidc.authorizationEndpoint !== undefined && oidc.tokenEndpoint !== undefined
        ? { authorizationEndpoint: oidc.authorizationEndpoint, tokenEndpoint: oidc.tokenEndpoint, discovery: 'configured' as const }
        : await discover(admin.issuer);
    res.json({
      ...base,
      clientId: oidc.clientId,
      redirectUri: oidc.redirectUri,
      scopes: oidc.scopes ?? ['openid'],
      authorizationEndpoint: oidc.authorizationEndpoint ?? endpoints.authorizationEndpoint,
      tokenEndpoint: oidc.tokenEndpoint ?? endpoints.tokenEndpoint,
      discovery: endpoints.discovery,
    });
  });
}

/** The issuer's endpoints from its discovery document, cached; a failure is cached briefly and answered as `failed`. */
function discovery(deps: ConsoleConfigDeps): (issuer: string) => Promise<Endpoints> {
  let cached: { readonly at: number; readonly ttl: number; readonly value: Endpoints } | undefined;
  let inFlight: Promise<Endpoints> | undefined;
  const failed: Endpoints = { authorizationEndpoint: null, tokenEndpoint: null, discovery: 'failed' };
  return async (issuer) => {
    if (cached !== undefined && deps.now() - cached.at < cached.ttl) return cached.value;
    inFlight ??= read(issuer)
      .then(
        (value) => {
          cached = { at: deps.now(), ttl: DISCOVERY_TTL_MS, value };
          return value;
        },
        (error: unknown) => {
          deps.logger.warn(
            { event: 'console_discovery_failed', issuer, err: error instanceof Error ? error.message : String(error) },
            "the admin issuer's OIDC discovery document could not be read; the console cannot start a sign-in",
          );
          cached = { at: deps.now(), ttl: FAILURE_TTL_MS, value: failed };
          return failed;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  async function read(issuer: string): Promise<Endpoints> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    if (!usableUrl(url)) throw new Error('the issuer is not an https URL (or http on loopback)');
    const answer = await (deps.fetch ?? fetch)(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), redirect: 'error' });
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const text = await answer.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error('the discovery document is too large');
    const doc = JSON.parse(text) as Record<string, unknown>;
    // OpenID Connect Discovery 1.0 §4.3: the document's issuer is exactly the one it was read for.
    if (doc['issuer'] !== issuer) throw new Error('the discovery document names another issuer');
    const authorization = doc['authorization_endpoint'];
    const token = doc['token_endpoint'];
    if (!usableUrl(authorization) || !usableUrl(token)) throw new Error('the discovery document lacks usable endpoints');
    return { authorizationEndpoint: authorization, tokenEndpoint: token, discovery: 'discovered' };
  }
}
