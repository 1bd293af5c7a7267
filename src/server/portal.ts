/**
 * The developer portal (web/, built by Vite into web/dist) served by the API's own Hono app, outside
 * /api/v1: hashed assets under /assets/ are immutable, everything else that is not the API is the
 * single page (index.html, `no-cache` so a deploy is picked up at the next load), and /portal.json
 * tells the page how to sign in. Every portal response carries the content security policy: scripts and
 * styles from this origin only, connections to this origin (REST and the stream) and the OIDC issuer.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, Hono } from 'hono';
import type { ApiEnv } from '../access/index.js';

/** How the page signs in: against the OIDC issuer, or the loopback-only local mode. */
export type PortalAuth = { mode: 'local' } | { mode: 'oidc'; issuer: string; clientId: string; scope: string };

/** Options of the portal. */
export interface PortalOptions {
  /** The built bundle (index.html and assets/). Default: web/dist of this checkout. */
  dir?: string;
  auth: PortalAuth;
}

/** web/dist next to src/ (the bundle `npm run build` and the set-up write). */
export const DEFAULT_PORTAL_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths that belong to the API or the platform endpoints, never to the page. */
const NOT_THE_PAGE = /^\/(api|healthz|readyz|metrics|openapi\.json)(\/|$)/;

/** The content security policy of the portal's responses. */
export function contentSecurityPolicy(auth: PortalAuth): string {
  // 'self' covers ws:// and wss:// to this origin (CSP 3), i.e. the stream.
  const connect = ["'self'", ...(auth.mode === 'oidc' ? [new URL(auth.issuer).origin] : [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(c: Pick<Context, 'header'>, csp: string): void {
  c.header('content-security-policy', csp);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('x-frame-options', 'DENY');
}

/** Mounts the portal on the app; call after the API routes so they win. */
export function registerPortal(app: Hono<ApiEnv>, opts: PortalOptions): void {
  const dir = resolve(opts.dir ?? DEFAULT_PORTAL_DIR);
  const csp = contentSecurityPolicy(opts.auth);
  const built = (): boolean => existsSync(join(dir, 'index.html'));

  app.get('/portal.json', (c) => {
    c.header('cache-control', 'no-cache');
    return c.json(opts.auth);
  });
  app.use('/assets/*', async (c, next) => {
    await next();
    securityHeaders(c, csp);
    // File names carry a content hash: a changed file is a new URL.
    if (c.res.status === 200) c.header('cache-control', 'public, max-age=31536000, immutable');
  });
  app.get('/assets/*', serveStatic({ root: dir }));
  app.get('*', async (c, next) => {
    if (NOT_THE_PAGE.test(c.req.path) || c.req.path.startsWith('/assets/')) return next();
    securityHeaders(c, csp);
    c.header('cache-control', 'no-cache');
    if (!built()) {
      return c.text('The portal is not built: run `npm run build` (or scripts/setup.sh), then reload.', 503);
    }
    return serveStatic<ApiEnv>({ root: dir, path: 'index.html' })(c, next);
  });
}
