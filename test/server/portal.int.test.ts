/**
 * The developer portal end to end in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core), against the real API server with OIDC (the test issuer signs the browser in with the
 * authorization code flow and PKCE), the real WebService controller with delivery, and a real Prometheus
 * scraping a traffic emitter that plays the service's pods and the gateway.
 *
 * A team-A member signs in, creates a service from the form (the preview shows objects and cost first),
 * deploys a new image and watches the step bar reach 100% as the canary is promoted, then deploys one
 * with errors and sees the rollback with its reason; a member without RBAC sees the API's refusal; a
 * team-B member sees nothing of team A; the API server restarted shows "disconnected" and the page
 * catches up. Screenshots go to .paved/screenshots/ (git-ignored). Figures printed, never asserted:
 * status change -> page (p50/p99 over 50 changes, timed in the browser), bundle size (gzip), time to
 * first render of the team overview.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import type { KubernetesObject } from '@kubernetes/client-node';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCost, loadPricing } from '../../src/cost/index.js';
import { KubeClients, createInformer, type Informer } from '../../src/kube/index.js';
import { DEFAULT_PORTAL_DIR } from '../../src/server/portal.js';
import { rendererPreview, requestsCostProjection } from '../../src/server/preview.js';
import { analysisTemplate, errorGate, prometheusProvider, scraped, startStack, type Stack } from '../delivery/stack.js';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { startOidcApi, type OidcApi } from '../support/oidc-api.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { createTeamWithRbac } from '../support/team-rbac.js';
import { startTrafficEmitter, type TrafficEmitter } from '../support/traffic-emitter.js';

const API = 'paved.dev/v1alpha1';
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), '.paved', 'screenshots');
const WAIT = 120_000;
const have = existsSync(CHROMIUM) && existsSync(join(DEFAULT_PORTAL_DIR, 'index.html'));

let nsA = '';
let nsB = '';
let issuer: OidcIssuer;
let admin: KubeClients;
let prom: LocalPrometheus;
let emitter: TrafficEmitter;
let stack: Stack | undefined;
let informers: Informer<KubernetesObject>[] = [];
let api: OidcApi | undefined;
let server: OidcApi['server'];
let browser: Browser;
let startApi: (port: number) => Promise<void>;

function informersFor(teams: string[]): Informer<KubernetesObject>[] {
  const selector = `paved.dev/team in (${teams.join(',')})`;
  return [
    createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'Team' }),
    createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' }),
    createInformer<KubernetesObject>({ clients: admin, apiVersion: API, kind: 'WebService', labelSelector: selector }),
    createInformer<KubernetesObject>({ clients: admin, apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: selector }),
    createInformer<KubernetesObject>({ clients: admin, apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', labelSelector: selector }),
  ];
}

beforeAll(async () => {
  if (!have) return;
  admin = KubeClients.fromKubeConfig(adminKubeConfig());
  issuer = await startOidcIssuer({ users: { alice: ['portal-a-devs'], carol: ['portal-a-viewers'], bob: ['portal-b-devs'] } });
  prom = await startPrometheus({ scrapeIntervalSeconds: 1 });
  nsA = await createTestNamespace('portal-a');
  nsB = await createTestNamespace('portal-b');
  // Only the devs' group is bound to the editor Role: the viewers pass the API's team check and RBAC refuses them.
  const budget = { monthlyBudget: { amount: 500 } };
  await createTeamWithRbac(nsA, { owners: ['portal-a-devs'], members: ['portal-a-viewers'], spec: budget });
  await createTeamWithRbac(nsB, { owners: ['portal-b-devs'], members: ['portal-b-viewers'], spec: budget });
  emitter = await startTrafficEmitter({ namespace: nsA, service: 'shop', requestsPerSecond: 50, followRoute: { kubeConfig: adminKubeConfig() } });
  await prom.addTarget(`emitter-${nsA}`, emitter.hostPort);
  await scraped(prom.url, nsA, 'stable');
  await admin.request({ method: 'POST', path: `/apis/paved.dev/v1alpha1/namespaces/${nsA}/analysistemplates`, body: { ...analysisTemplate('gate', errorGate), metadata: { name: 'gate', namespace: nsA } } });
  stack = await startStack(nsA, prometheusProvider(prom.url));
  // Team B has a service of its own (no controller: it only has to be listed).
  await admin.request({
    method: 'POST',
    path: `/apis/paved.dev/v1alpha1/namespaces/${nsB}/webservices`,
    body: { apiVersion: API, kind: 'WebService', metadata: { name: 'billing', labels: { 'paved.dev/team': nsB } }, spec: { image: 'ghcr.io/acme/billing:7.0.0' } },
  });

  informers = informersFor([nsA, nsB]);
  await Promise.all(informers.map((i) => i.start()));
  await Promise.all(informers.map((i) => i.waitForSync()));
  const [teams, namespaces, webServices, deployments, httpRoutes] = informers as [Informer<KubernetesObject>, Informer<KubernetesObject>, Informer<KubernetesObject>, Informer<KubernetesObject>, Informer<KubernetesObject>];
  const sources = { teams, namespaces, webServices, deployments, httpRoutes };
  const web = stack.web;
  const pricing = await loadPricing(undefined);
  const cost = createCost({ prometheusUrl: prom.url, pricing, listTeams: () => teams.list(), routePrefix: '' });
  const auth = { mode: 'oidc' as const, issuer: issuer.issuer, clientId: issuer.audience, scope: 'openid groups' };
  // One "API server process": a fresh hub (a new epoch) and feed each time, as after a restart.
  startApi = async (port: number) => {
    api = await startOidcApi({
      issuer,
      sources,
      port,
      extra: {
        routes: [{ path: '/cost', app: cost.routes, servesWhileSyncing: true }],
        preview: rendererPreview((ws, team) => web.preview(ws, team)),
        projectMonthlyCost: requestsCostProjection(pricing),
        portal: { auth },
      },
    });
    server = api.server;
  };
  await startApi(0);

  mkdirSync(SHOTS, { recursive: true });
  // launch() gives the browser a fresh temporary user-data-dir of its own, removed when it closes.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

const contexts: BrowserContext[] = [];

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await api?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  await stack?.stop();
  await emitter?.stop();
  await prom?.stop();
  for (const ns of [nsA, nsB]) if (ns) await admin.delete({ apiVersion: API, kind: 'Team', name: ns }).catch(() => undefined);
  await issuer?.stop();
});

/** What the browser said about the content security policy (any refusal is a bug of the page). */
const cspReports: string[] = [];

/** A page in a fresh, isolated browser context (own cookies and storage): one per user. */
async function newPage(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspReports.push(m.text());
  });
  page.on('pageerror', (e) => cspReports.push(`page error: ${e.message}`));
  return page;
}

async function signIn(page: Page, user: string): Promise<void> {
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('User name').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor({ timeout: WAIT });
}

async function axe(page: Page, where: string): Promise<void> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const result = await page.evaluate(async () => {
    const r = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
    return r.violations.map((v: any) => `${v.id} (${v.impact}): ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
  });
  expect(result, `accessibility violations on ${where}`).toEqual([]);
}

/** Records every distinct aria-valuenow of the step bar, in the page, as it happens. */
async function recordStepBar(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (globalThis as any).__bar = seen;
    const note = () => {
      const v = (globalThis as any).document.querySelector('[data-testid=step-bar]')?.getAttribute('aria-valuenow');
      if (v !== null && v !== undefined && seen.at(-1) !== v) seen.push(v);
    };
    note();
    new ((globalThis as any).MutationObserver)(note).observe((globalThis as any).document.body, { subtree: true, attributes: true, childList: true });
  });
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

describe.skipIf(!have)('the developer portal in a real browser', () => {
  let alice: Page;

  it('signs a team-A member in with the authorization code flow and PKCE; the token stays out of URLs and localStorage', async () => {
    alice = await newPage();
    const urls: string[] = [];
    alice.on('request', (r) => urls.push(r.url()));
    await signIn(alice, 'alice');
    await expect.poll(() => alice.getByTestId(`team-${nsA}`).isVisible(), { timeout: WAIT }).toBe(true);
    const storage = await alice.evaluate(() => ({ local: (globalThis as any).localStorage.length, session: (globalThis as any).sessionStorage.getItem('paved.session') }));
    expect(storage.local).toBe(0);
    const token = (JSON.parse(storage.session ?? '{}') as { token?: string }).token ?? '';
    expect(token.split('.')).toHaveLength(3);
    expect(urls.some((u) => u.includes(token))).toBe(false);
    expect(alice.url()).not.toMatch(/code=|state=/);
    expect(await alice.getByTestId(`team-${nsB}`).count()).toBe(0);
  });

  it('creates a service from the form: the preview shows the objects and the cost first, errors sit by their field', async () => {
    await alice.getByRole('link', { name: `New service in ${nsA}` }).click();
    await alice.getByLabel('Name', { exact: true }).fill('shop');
    await alice.getByLabel('Image').fill('ghcr.io/acme/shop:1.0.0');
    await alice.getByLabel('public').check();
    await alice.getByLabel('Host').fill('shop.example.com');
    await alice.getByLabel('Minimum replicas').fill('5');
    await alice.getByLabel('Maximum replicas').fill('4');
    // The server refuses min > max and names scaling.minReplicas: the message is next to that field.
    await expect.poll(() => alice.locator('#e-minReplicas').textContent(), { timeout: WAIT }).toMatch(/minReplicas must not exceed maxReplicas/);
    await alice.getByLabel('Minimum replicas').fill('2');
    await alice.getByLabel('Rollout steps').fill('10, analysis:gate, 50, analysis:gate, 100');
    await expect.poll(() => alice.getByTestId('preview-objects').textContent(), { timeout: WAIT }).toMatch(/Deployment shop/);
    expect(await alice.getByTestId('preview-objects').textContent()).toMatch(/HTTPRoute shop/);
    expect(await alice.getByTestId('preview-cost').textContent()).toMatch(/Projected monthly cost: \$\d/);
    await alice.screenshot({ path: join(SHOTS, 'new-service-form.png'), fullPage: true });
    await axe(alice, 'the new-service form');
    await alice.getByRole('button', { name: 'Create service' }).click();
    await alice.waitForURL(`**/services/${nsA}/shop`);
    await expect.poll(() => alice.getByTestId('converged').textContent(), { timeout: WAIT }).toMatch(/converged/);
  });

  it('a new image: the step bar moves live to 100% as the canary is promoted', async () => {
    await recordStepBar(alice);
    await alice.getByLabel('Image', { exact: true }).fill('ghcr.io/acme/shop:2.0.0');
    await alice.getByRole('button', { name: 'Deploy' }).click();
    const bar = () => alice.evaluate(() => (globalThis as any).__bar as string[]);
    await expect.poll(bar, { timeout: WAIT }).toContain('10');
    await alice.screenshot({ path: join(SHOTS, 'service-mid-rollout.png'), fullPage: true });
    await axe(alice, 'the service page');
    // From 10% on: 50%, then 100% (the bar stood at 100% for the previous revision before the change).
    const afterTen = async () => (await bar()).slice((await bar()).indexOf('10'));
    await expect.poll(afterTen, { timeout: WAIT }).toEqual(expect.arrayContaining(['10', '50', '100']));
    const seen = await afterTen();
    expect(seen.indexOf('50')).toBeLessThan(seen.lastIndexOf('100'));
    expect(seen.at(-1)).toBe('100');
    await expect.poll(() => alice.getByTestId('converged').textContent(), { timeout: WAIT }).toMatch(/converged/);
    expect(await alice.getByTestId('charts').textContent()).toMatch(/error-rate/);
  });

  it('errors on the next change: the page shows the rollback and its reason', async () => {
    emitter.setErrorRate('canary', 0.5);
    await alice.getByLabel('Image', { exact: true }).fill('ghcr.io/acme/shop:3.0.0');
    await alice.getByRole('button', { name: 'Deploy' }).click();
    await alice.getByTestId('rollback').waitFor({ timeout: WAIT });
    expect(await alice.getByTestId('rollback').textContent()).toMatch(/Rolled back: AnalysisFailed/);
    // The failed analysis joins the history with the rollback's reason (the detail is re-read after the stream's change).
    await expect.poll(() => alice.getByTestId('history').textContent(), { timeout: WAIT }).toMatch(/step 2: Failed/);
    expect(await alice.getByTestId('history-rollback').textContent()).toMatch(/rolled back \(AnalysisFailed\): \S/);
    emitter.setErrorRate('canary', 0);
  });

  it('a team member whom RBAC does not allow sees the controls and the API refusal in plain words', async () => {
    const carol = await newPage();
    await signIn(carol, 'carol');
    await carol.goto(`${server.url}/services/${nsA}/shop`);
    await carol.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => carol.getByTestId('control-outcome').textContent(), { timeout: WAIT }).toMatch(/refused \(403 Forbidden\)/);
  });

  it('a team-B member sees none of team A', async () => {
    const bob = await newPage();
    await signIn(bob, 'bob');
    await expect.poll(() => bob.getByTestId(`row-${nsB}/billing`).isVisible(), { timeout: WAIT }).toBe(true);
    expect(await bob.getByTestId(`team-${nsA}`).count()).toBe(0);
    expect(await bob.content()).not.toContain(nsA);
    await bob.goto(`${server.url}/services/${nsA}/shop`);
    await expect.poll(() => bob.getByRole('alert').first().textContent(), { timeout: WAIT }).toMatch(/not a reader|Forbidden|may not|not/i);
    expect(await bob.locator('[data-testid=step-bar]').count()).toBe(0);
  });

  it('measures: status change in the API server -> page, bundle size, first render of the overview', async () => {
    // The controller stops so that the status written here is the only writer's.
    await stack?.stop();
    stack = undefined;
    await alice.goto(`${server.url}/services/${nsA}/shop`);
    await alice.getByTestId('rollout-message').waitFor({ state: 'attached' });
    await alice.evaluate(() => {
      const seen: Record<string, number> = {};
      (globalThis as any).__seen = seen;
      const el = (globalThis as any).document.body;
      new ((globalThis as any).MutationObserver)(() => {
        const t = (globalThis as any).document.querySelector('[data-testid=rollout-message]')?.textContent ?? '';
        if (t.startsWith('probe-') && !(t in seen)) seen[t] = Date.now();
      }).observe(el, { subtree: true, childList: true, characterData: true });
    });
    const path = `/apis/paved.dev/v1alpha1/namespaces/${nsA}/webservices/shop/status`;
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const text = `probe-${i}`;
      const t0 = Date.now();
      await admin.request({ method: 'PATCH', path, contentType: 'application/merge-patch+json', body: { status: { rollout: { message: text } } } });
      const seenAt = await alice.waitForFunction((t) => (globalThis as any).__seen[t] as number | undefined, text, { timeout: 30_000, polling: 10 });
      latencies.push(((await seenAt.jsonValue()) as number) - t0);
    }
    expect(latencies).toHaveLength(50);

    const assets = join(DEFAULT_PORTAL_DIR, 'assets');
    const sizes = readdirSync(assets).map((f) => ({ f, raw: readFileSync(join(assets, f)).length, gz: gzipSync(readFileSync(join(assets, f)), { level: 9 }).length }));

    const fresh = await newPage();
    const sess = await alice.evaluate(() => (globalThis as any).sessionStorage.getItem('paved.session'));
    await fresh.goto(`${server.url}/portal.json`);
    await fresh.evaluate((s) => (globalThis as any).sessionStorage.setItem('paved.session', s ?? ''), sess);
    const renders: number[] = [];
    for (let i = 0; i < 5; i++) {
      await fresh.goto(server.url);
      await fresh.getByTestId(`row-${nsA}/shop`).waitFor({ timeout: WAIT });
      renders.push(await fresh.evaluate(() => performance.getEntriesByName('paved:overview-rendered')[0]?.startTime ?? NaN));
    }
    console.log(
      [
        `portal figures: status write -> page, 50 changes: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms`,
        `portal figures: bundle ${sizes.map((s) => `${s.f} ${(s.raw / 1024).toFixed(1)} KiB (${(s.gz / 1024).toFixed(1)} KiB gzip)`).join(', ')}; total gzip ${(sizes.reduce((n, s) => n + s.gz, 0) / 1024).toFixed(1)} KiB`,
        `portal figures: first render of the team overview (navigation start -> services shown), 5 loads: ${renders.map((r) => r.toFixed(0)).join(', ')} ms`,
      ].join('\n'),
    );
  });

  it('the API server restarted: the page says "disconnected", then catches up with what changed meanwhile', async () => {
    const port = server.port;
    await api?.stop();
    await expect.poll(() => alice.getByTestId('connection-stream').textContent(), { timeout: WAIT }).toMatch(/disconnected/);
    await admin.request({
      method: 'PATCH',
      path: `/apis/paved.dev/v1alpha1/namespaces/${nsA}/webservices/shop/status`,
      contentType: 'application/merge-patch+json',
      body: { status: { rollout: { message: 'changed while the server was down' } } },
    });
    await startApi(port);
    await expect.poll(() => alice.getByTestId('connection-stream').textContent(), { timeout: WAIT }).toMatch(/stream: live/);
    await expect.poll(() => alice.getByTestId('rollout-message').textContent(), { timeout: WAIT }).toBe('changed while the server was down');
    await alice.goto(server.url);
    await alice.getByTestId(`row-${nsA}/shop`).waitFor({ timeout: WAIT });
    await alice.screenshot({ path: join(SHOTS, 'team-overview.png'), fullPage: true });
    await axe(alice, 'the team overview');
    expect(cspReports).toEqual([]);
  });
});
