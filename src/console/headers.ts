import type { NextFunction, Request, Response } from 'express';
import type { AdminConfig } from '../config/types.ts';

/**
 * The security console's headers, on every /admin/ui response (issue #16): scripts and styles only
 * from this origin's bundled files, nothing inline, no plugins, no <base>, never framed; no
 * referrer leaves the page (an image reference or an entry id in the URL stays here).
 */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The CSP with OIDC sign-in: the directives unchanged, plus `connect-src 'self' <origin>`
 * so the browser may POST the authorization code to the issuer's token endpoint (without it,
 * connect-src falls back to default-src 'self' and the exchange is blocked). Only that one origin.
 */
export function consoleCsp(tokenOrigin: string | undefined): string {
  return tokenOrigin === undefined ? CONSOLE_CSP : `${CONSOLE_CSP}; connect-src 'self' ${tokenOrigin}`;
}

/**
 * The origin of the token endpoint the console's sign-in posts to: the configured
 * `admin.console.oidc.tokenEndpoint`, else the issuer's (discovered endpoints are read from the
 * issuer; docs/console.md says to configure the token endpoint when it lives on another origin).
 * Undefined without OIDC sign-in. Only an origin (scheme, host, port) goes into the header.
 */
export function tokenEndpointOrigin(admin: AdminConfig | undefined): string | undefined {
  const oidc = admin?.console.oidc;
  if (admin === undefined || oidc === undefined || !admin.console.enabled) return undefined;
  try {
    const origin = new URL(oidc.tokenEndpoint ?? admin.issuer).origin;
    // A CSP source expression: scheme://host[:port]; anything else (an opaque "null" origin) is left out.
    return /^https?:\/\/[A-Za-z0-9.[\]:-]+$/.test(origin) ? origin : undefined;
  } catch {
    return undefined;
  }
}

export function consoleHeaders(tokenOrigin?: string): (req: Request, res: Response, next: NextFunction) => void {
  const csp = consoleCsp(tokenOrigin);
  return (_req, res, next) => {
    res.setHeader('content-security-policy', csp);
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  };
}
