// The signed-in token, kept in this tab's sessionStorage (never a cookie: the admin API reads only
// the Authorization header). Its payload is decoded for display only; the server verifies it.

const KEY = 'trustgate.console.token';
/** The claim the admin API reads roles from (admin.rolesClaim; "roles" unless configured). */
const ROLES_CLAIM = 'roles';

export interface Session {
  readonly token: string;
  readonly subject: string;
  /** As claimed, scoped entries included ("key-manager@registry.example/team/**"). */
  readonly roles: readonly string[];
  /** Epoch ms, from `exp`. */
  readonly expires: number;
  readonly issuer: string | undefined;
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The token's claims for display, or why it cannot be one (malformed, expired, no `sub` or `exp`). */
export function readToken(raw: string, now: number = Date.now()): Session | string {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!JWT.test(token)) return 'This is not a JWT (three base64url parts separated by dots).';
  let payload: unknown;
  try {
    payload = JSON.parse(base64UrlText(token.split('.')[1]!));
  } catch {
    return 'The token payload is not JSON.';
  }
  if (typeof payload !== 'object' || payload === null) return 'The token payload is not a JSON object.';
  const claims = payload as Record<string, unknown>;
  if (typeof claims['sub'] !== 'string') return 'The token has no subject (sub).';
  if (typeof claims['exp'] !== 'number') return 'The token has no expiry (exp).';
  const expires = claims['exp'] * 1000;
  if (expires <= now) return 'The token has expired.';
  const claimed = claims[ROLES_CLAIM];
  const roles = Array.isArray(claimed)
    ? claimed.filter((r): r is string => typeof r === 'string')
    : typeof claimed === 'string'
      ? claimed.split(/[\s,]+/).filter((r) => r !== '')
      : [];
  return { token, subject: claims['sub'], roles, expires, issuer: typeof claims['iss'] === 'string' ? claims['iss'] : undefined };
}

function base64UrlText(part: string): string {
  const b64 = part
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function loadSession(now: number = Date.now()): Session | undefined {
  const stored = sessionStorage.getItem(KEY);
  if (stored === null) return undefined;
  const session = readToken(stored, now);
  if (typeof session === 'string') {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
  return session;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, session.token);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
