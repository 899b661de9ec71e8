import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type Request, type Response } from 'express';
import { TrustgateError } from '../errors/errors.ts';
import { consoleHeaders } from './headers.ts';

/**
 * Where `npm run build` puts the console bundle (console/build.ts): `dist/admin-ui/`. This file runs
 * from `src/console/` (tsx) or `dist/console/` (compiled); both sit two levels under the package root.
 */
export const CONSOLE_DIR = resolve(import.meta.dirname, '..', '..', 'dist', 'admin-ui');

const YEAR_SECONDS = 31_536_000;

export interface ConsoleRouterOptions {
  /** The OIDC token endpoint's origin (tokenEndpointOrigin): added to the CSP's connect-src, and nothing else. */
  readonly tokenOrigin?: string;
}

/**
 * /admin/ui: the security console, a single-page app served from disk on the admin API's origin,
 * so its bearer token only ever goes to same-origin /admin/v1. Hashed assets are immutable;
 * index.html, served for every other path under /admin/ui/ (the app's routes), is never cached,
 * so a new build is picked up at once.
 */
export function createConsoleRouter(dir: string = CONSOLE_DIR, options: ConsoleRouterOptions = {}): express.Router {
  const router = express.Router();
  const index = join(dir, 'index.html');
  router.use(consoleHeaders(options.tokenOrigin));
  router.use((req, res, next) => {
    res.locals['route'] = '/admin/ui';
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new TrustgateError('UNSUPPORTED', 'the console serves GET and HEAD only');
    next();
  });
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      index: false,
      redirect: false,
      fallthrough: true,
      dotfiles: 'deny',
      etag: false,
      immutable: true,
      maxAge: YEAR_SECONDS * 1000,
    }),
  );
  router.use('/assets', () => {
    throw new TrustgateError('NAME_UNKNOWN', 'no such console asset');
  });
  router.use((req: Request, res: Response) => {
    // /admin/ui → /admin/ui/, so the page's relative URLs and the app's routes line up.
    if (req.originalUrl.split('?')[0] === '/admin/ui') {
      res.redirect(301, '/admin/ui/');
      return;
    }
    if (!existsSync(index)) throw new TrustgateError('NAME_UNKNOWN', 'the console is not built: run `npm run build`');
    res.setHeader('cache-control', 'no-cache, no-store');
    res.sendFile(index, { etag: false, lastModified: false, dotfiles: 'deny' });
  });
  return router;
}
