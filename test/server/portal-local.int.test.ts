/**
 * The portal in local mode (no OIDC, the default of `npm run paved`) in headless Chromium, over in-memory
 * caches (no cluster needed): no sign-in, a banner that says every visitor is local-admin, the server on
 * loopback only, and the overview live from the stream.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeed, type Feed } from '../../src/server/feed.js';
import { DEFAULT_PORTAL_DIR } from '../../src/server/portal.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { buildApp, webService, world } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const have = existsSync(CHROMIUM) && existsSync(join(DEFAULT_PORTAL_DIR, 'index.html'));
const w = world();
let feed: Feed;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!have) return;
  w.webServices.upsert(webService('team-a', 'shop', { image: 'ghcr.io/acme/shop:1.2.3', status: { rollout: { phase: 'Healthy', stableRevision: 'r1', stepIndex: 0, weight: 0, attempt: 0, history: [] } } }));
  const api = buildApp({ sources: w.sources, auth: { kind: 'local' }, portal: { auth: { mode: 'local' } } });
  feed = startFeed({ sources: w.sources, hub: api.hub });
  server = await startServer({ api, authMode: 'local', port: 0, host: '0.0.0.0', logger: api.log.logger });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

afterAll(async () => {
  await browser?.close();
  feed?.stop();
  await server?.close();
});

describe.skipIf(!have)('the portal in local mode', () => {
  it('needs no sign-in, says plainly that it is local mode, listens on loopback only, and is live', async () => {
    expect(server.host).toBe('127.0.0.1');
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('local-mode').textContent()).toMatch(/Local mode.*local-admin.*127\.0\.0\.1 only/);
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
    await page.getByTestId('row-team-a/shop').waitFor();
    expect(await page.getByTestId('row-team-a/shop').textContent()).toMatch(/Healthy.*1\.2\.3/);
    // A change in the caches reaches the page over the stream.
    w.webServices.upsert(webService('team-a', 'shop', { image: 'ghcr.io/acme/shop:1.2.4', status: { rollout: { phase: 'Paused', stableRevision: 'r1', stepIndex: 0, weight: 0, attempt: 0, history: [] } } }));
    await expect.poll(() => page.getByTestId('row-team-a/shop').textContent()).toMatch(/Paused.*1\.2\.4/);
    // Both teams: local-admin is a platform admin.
    expect(await page.getByTestId('team-team-b').count()).toBe(1);
  });
});
