// OIDC sign-in (issue #16): authorization code with PKCE (RFC 7636, S256) against the admin issuer,
// a public client. The round trip's secrets (code verifier, state, nonce) stay in this tab's
// sessionStorage and are used once. On the way back: the redirect URI is exact, `state` must match,
// `iss` (RFC 9207) must be the admin issuer when given, the ID token's `nonce` must match, and the
// token kept is the access token for the admin audience, never the ID token.
import { readToken, type Session } from './session.ts';

export interface ConsoleConfig {
  readonly enabled: boolean;
  readonly issuer?: string;
  readonly audience?: string;
  readonly oidcConfigured?: boolean;
  readonly clientId?: string;
  readonly redirectUri?: string;
  readonly scopes?: readonly string[];
  readonly authorizationEndpoint?: string | null;
  readonly tokenEndpoint?: string | null;
  readonly discovery?: 'configured' | 'discovered' | 'failed';
}

/** A config that can start an OIDC sign-in. */
export interface OidcConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
}

const PENDING = 'trustgate.console.oidc';

/** GET /admin/v1/console/config: public values, no token. */
export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/admin/v1/console/config', { credentials: 'omit', cache: 'no-store', redirect: 'error' });
  if (!res.ok) throw new Error(`trustgate answered HTTP ${res.status} for the console config.`);
  return (await res.json()) as ConsoleConfig;
}

/** The OIDC part of the config when sign-in can start (endpoints known, a redirect URI back into this console). */
export function oidcOf(config: ConsoleConfig): OidcConfig | undefined {
  const { issuer, audience, clientId, redirectUri, scopes, authorizationEndpoint, tokenEndpoint } = config;
  if (config.enabled !== true || config.oidcConfigured !== true) return undefined;
  if (issuer === undefined || audience === undefined || clientId === undefined || redirectUri === undefined) return undefined;
  if (typeof authorizationEndpoint !== 'string' || typeof tokenEndpoint !== 'string') return undefined;
  return { issuer, audience, clientId, redirectUri, scopes: scopes ?? ['openid'], authorizationEndpoint, tokenEndpoint };
}

/** Why the redirect URI cannot bring the answer back to this console, or undefined when it can. */
export function redirectProblem(oidc: OidcConfig): string | undefined {
  const uri = new URL(oidc.redirectUri);
  if (uri.origin !== window.location.origin) return `The configured redirect URI (${oidc.redirectUri}) is not on this console's origin.`;
  if (!uri.pathname.startsWith('/admin/ui/'))
    return `The configured redirect URI (${oidc.redirectUri}) is not a console path under /admin/ui/.`;
  return undefined;
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export async function s256(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

interface Pending {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

/** Starts the round trip: stores verifier, state and nonce in this tab, answers the authorization URL. */
export async function authorizationUrl(oidc: OidcConfig): Promise<string> {
  const pending: Pending = { state: random(32), nonce: random(32), verifier: random(48) }; // 64 characters of verifier
  const url = new URL(oidc.authorizationEndpoint);
  const params = url.searchParams;
  params.set('response_type', 'code');
  params.set('client_id', oidc.clientId);
  params.set('redirect_uri', oidc.redirectUri);
  params.set('scope', oidc.scopes.join(' '));
  params.set('state', pending.state);
  params.set('nonce', pending.nonce);
  params.set('code_challenge', await s256(pending.verifier));
  params.set('code_challenge_method', 'S256');
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  return url.toString();
}

/** True when this URL is an authorization response (a code or an error, with a state). */
export function isAuthorizationResponse(params: URLSearchParams): boolean {
  return params.has('state') && (params.has('code') || params.has('error'));
}

/** The sign-in's failure, in words for the page. */
export class SignInError extends Error {}

function claimsOf(jwt: string, what: string): Record<string, unknown> {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new SignInError(`The ${what} is not a JWT.`);
  try {
    const b64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('not an object');
    return claims as Record<string, unknown>;
  } catch {
    throw new SignInError(`The ${what}'s payload is not a JSON object.`);
  }
}

function audiences(claims: Record<string, unknown>): string[] {
  const aud = claims['aud'];
  return typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/**
 * Finishes the round trip from the authorization response at `here` (the current URL): every check
 * above, then the code exchange at the token endpoint. The stored secrets are removed first, so a
 * response is used at most once.
 */
export async function completeSignIn(oidc: OidcConfig, here: URL): Promise<Session> {
  const stored = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (stored === null) throw new SignInError('No sign-in was started in this tab, or its answer was already used. Start again.');
  const pending = JSON.parse(stored) as Pending;
  const redirect = new URL(oidc.redirectUri);
  if (here.origin !== redirect.origin || here.pathname !== redirect.pathname)
    throw new SignInError('The sign-in answer came back to another address than the configured redirect URI.');
  const params = here.searchParams;
  if (params.get('state') !== pending.state)
    throw new SignInError('The sign-in answer does not match the sign-in this tab started (state). Nothing was used.');
  const iss = params.get('iss');
  if (iss !== null && iss !== oidc.issuer)
    throw new SignInError(`The sign-in answer came from another issuer (${iss}), not ${oidc.issuer}.`);
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description');
    throw new SignInError(`The identity provider refused the sign-in: ${error}${description === null ? '' : ` (${description})`}.`);
  }
  const code = params.get('code');
  if (code === null || code === '') throw new SignInError('The sign-in answer holds no code.');

  let res: Response;
  try {
    res = await fetch(oidc.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: oidc.redirectUri,
        client_id: oidc.clientId,
        code_verifier: pending.verifier,
      }).toString(),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new SignInError("The identity provider's token endpoint could not be reached.");
  }
  let answer: Record<string, unknown>;
  try {
    answer = (await res.json()) as Record<string, unknown>;
  } catch {
    throw new SignInError(`The token endpoint answered HTTP ${res.status} without JSON.`);
  }
  if (!res.ok) {
    const what = typeof answer['error'] === 'string' ? answer['error'] : `HTTP ${res.status}`;
    throw new SignInError(`The token endpoint refused the code: ${what}.`);
  }
  const idToken = answer['id_token'];
  const accessToken = answer['access_token'];
  if (typeof idToken !== 'string') throw new SignInError('The identity provider returned no ID token, so the nonce cannot be checked.');
  const id = claimsOf(idToken, 'ID token');
  if (id['nonce'] !== pending.nonce) throw new SignInError('The ID token is not for the sign-in this tab started (nonce).');
  if (id['iss'] !== oidc.issuer) throw new SignInError('The ID token is from another issuer.');
  if (!audiences(id).includes(oidc.clientId)) throw new SignInError('The ID token is not for this console (aud).');
  if (typeof accessToken !== 'string' || accessToken === idToken)
    throw new SignInError('The identity provider returned no access token for trustgate (an ID token is never used for the admin API).');
  const access = claimsOf(accessToken, 'access token');
  if (!audiences(access).includes(oidc.audience))
    throw new SignInError(
      `The access token is not for trustgate's admin API (its audience does not include "${oidc.audience}"): ask for that audience at the identity provider.`,
    );
  const session = readToken(accessToken);
  if (typeof session === 'string') throw new SignInError(`The access token cannot be used: ${session}`);
  return session;
}
