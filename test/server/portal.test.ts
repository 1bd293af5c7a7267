/**
 * The portal served by the API's app: the page under every non-API path (no-cache), hashed assets
 * immutable, the content security policy, the sign-in configuration, and the API left as it was.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../src/server/portal.js';
import { buildApp, world } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'paved-portal-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>paved portal</title><script type="module" src="/assets/index-abc123.js"></script>');
writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oidc = { mode: 'oidc' as const, issuer: 'https://login.example.com/realms/x', clientId: 'paved', scope: 'openid groups' };

describe('the portal', () => {
  const api = buildApp({ sources: world().sources, auth: { kind: 'local' }, portal: { dir, auth: oidc } });
  const get = (path: string) => api.app.request(path);

  it('answers the page paths with index.html, no-cache, and the content security policy', async () => {
    for (const path of ['/', '/services/team-a/web', '/new?team=team-a', '/auth/callback?code=x&state=y']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy(oidc));
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toContain('paved portal');
    }
  });

  it('serves hashed assets as immutable for a year; a missing asset is a 404, not the page', async () => {
    const res = await get('/assets/index-abc123.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await get('/assets/gone-000.js')).status).toBe(404);
  });

  it('allows scripts, styles and connections from this origin, plus the issuer for the token exchange, and nothing inline', () => {
    const csp = contentSecurityPolicy(oidc);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self' https://login.example.com");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(contentSecurityPolicy({ mode: 'local' })).toContain("connect-src 'self';");
  });

  it('tells the page how to sign in, and never the other way round for the API', async () => {
    const cfg = await get('/portal.json');
    expect(await cfg.json()).toEqual(oidc);
    expect(cfg.headers.get('cache-control')).toBe('no-cache');
    const missing = await get('/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NotFound' });
    expect((await get('/healthz')).headers.get('content-type')).toMatch(/json/);
    expect((await get('/openapi.json')).status).toBe(200);
  });

  it('says plainly when the bundle is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'paved-portal-empty-'));
    const bare = buildApp({ sources: world().sources, auth: { kind: 'local' }, portal: { dir: empty, auth: { mode: 'local' } } });
    const res = await bare.app.request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build/);
    rmSync(empty, { recursive: true, force: true });
  });
});
