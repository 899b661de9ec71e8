import type { NextFunction, Request, Response } from 'express';

/**
 * The security console's headers, on every /admin/ui response (issue #16): scripts and styles only
 * from this origin's bundled files, nothing inline, no plugins, no <base>, never framed; no
 * referrer leaves the page (an image reference or an entry id in the URL stays here).
 */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function consoleHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('content-security-policy', CONSOLE_CSP);
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-content-type-options', 'nosniff');
  next();
}
