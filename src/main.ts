/**
 * paved's entry point: wiring only. config -> cluster (KUBECONFIG, in-cluster, or a local stack it
 * starts) -> CRDs -> one shared informer factory -> controllers (one per kind: Team, WebService) under
 * leader election -> HTTP API over the same caches, and a separate
 * health/metrics listener. Stops cleanly on SIGINT/SIGTERM; exits when leadership is lost so the
 * process restarts clean.
 */
import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { metricsProviderFor } from './analysis/index.js';
import { loadConfig } from './config.js';
import { budgetMetrics, createCost, loadPricing, startBudgetLoop, startCostWarmer } from './cost/index.js';
import { recordQuery } from './delivery/metrics.js';
import { describeError } from './errors.js';
import { CRD_DIR, installCrds, yamlFiles } from './install/crds.js';
import { EventRecorder, KubeClients, createInformerFactory, createManager, isAlreadyExists, metricsRegistry } from './kube/index.js';
import { createLogger } from './log.js';
import { demoTrafficRoutes, startDemoTraffic } from './localcluster/demo-traffic.js';
import { startLocalStack, type LocalStack } from './localcluster/stack.js';
import {
  StreamHub,
  authModeFromConfig,
  createApp,
  createResourceWriter,
  portalFromConfig,
  rendererPreview,
  requestsCostProjection,
  rolesFromConfig,
  startFeed,
  startServer,
} from './server/index.js';
import { createTenancyController } from './tenancy/controller.js';
import { createRightsizing } from './rightsizing/index.js';
import { createWebServiceController, detectCapabilities, platformFromConfig } from './webservice/index.js';

const config = loadConfig();
const log = createLogger(config.PAVED_LOG_LEVEL, config.PAVED_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'));
const identity = config.POD_NAME ?? `${hostname()}-${process.pid}`;

// 1. The cluster.
let stack: LocalStack | undefined;
const kc = new KubeConfig();
let prometheusUrl = config.PAVED_PROMETHEUS_URL;
if (config.KUBECONFIG) {
  kc.loadFromFile(config.KUBECONFIG);
  log.info({ kubeconfig: config.KUBECONFIG }, 'using the cluster of KUBECONFIG');
} else if (config.KUBERNETES_SERVICE_HOST) {
  kc.loadFromCluster();
  log.info('using the in-cluster service account');
} else {
  log.info('no KUBECONFIG and not in a cluster: starting a local cluster and Prometheus');
  stack = await startLocalStack((line) => log.info({ component: 'local-stack' }, line), { extras: config.PAVED_LOCAL_EXTRAS });
  kc.loadFromFile(stack.cluster.kubeconfigPath);
  prometheusUrl ??= stack.prometheus.url;
  log.info({ kubeconfig: stack.cluster.kubeconfigPath, prometheus: prometheusUrl, kubectl: stack.kubectl },
    `local cluster ready; to use its kubectl against it, run: ${stack.kubectlPathLine}`);
}

// 2. Health and metrics: their own listener, reachable by kubelet probes and Prometheus.
let ready = false;
// One registry, served as it is at each scrape: metrics registered later in start-up (budgets, cost, the
// API's own) are on it too, which a Registry.merge snapshot taken here would miss.
const metrics = metricsRegistry;
const probes = new Hono();
probes.get('/healthz', (c) => c.text('ok'));
probes.get('/readyz', (c) => (ready ? c.text('ok') : c.text('starting', 503)));
// Local stack only (set below): the demo-traffic routes. Declared now: Hono's router is fixed at the first request.
let demoRoutes: Hono | undefined;
probes.all('/demo/*', (c) => demoRoutes?.fetch(c.req.raw) ?? c.json({ error: 'demo traffic runs only in the local stack (no KUBECONFIG) with its extras' }, 404));
probes.get('/metrics', async (c) => c.text(await metrics.metrics(), 200, { 'content-type': metrics.contentType }));
const probeHost = config.PAVED_METRICS_HOST ?? (config.KUBERNETES_SERVICE_HOST ? '0.0.0.0' : '127.0.0.1');
const probeServer = serve({ fetch: probes.fetch, port: config.PAVED_METRICS_PORT, hostname: probeHost }, (info) => {
  log.info({ url: `http://${probeHost}:${info.port}` }, `health and metrics on http://${probeHost}:${info.port}`);
  if (stack) void stack.prometheus.addTarget('paved-controller', `127.0.0.1:${info.port}`);
});

let shuttingDown = false;
const cleanups: Array<() => Promise<void> | void> = [];
async function shutdown(reason: string, code = 0): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    log.info({ reason }, 'shutting down');
    ready = false;
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve(cleanup()).catch((err: unknown) => log.error({ err: describeError(err) }, 'clean-up failed'));
    }
    probeServer.close();
    await stack?.stop();
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  // 3. Connect, install the CRDs, make sure the Lease has a namespace.
  const version = await kc.makeApiClient(VersionApi).getCode();
  log.info({ server: kc.getCurrentCluster()?.server, version: version.gitVersion }, 'connected to the Kubernetes API server');
  const crds = await installCrds(kc, yamlFiles(CRD_DIR));
  log.info({ crds }, 'installed CRDs');
  // The host map (admission's view of who serves which host) lives in a namespace of paved's own.
  const [hostMapNamespace = '', hostMapName = ''] = config.PAVED_HOST_MAP.split('/');
  const ownNamespaces = new Set([...(config.PAVED_LEADER_ELECTION ? [config.PAVED_LEASE_NAMESPACE] : []), ...(hostMapNamespace ? [hostMapNamespace] : [])]);
  for (const name of ownNamespaces) {
    await kc.makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name } } })
      .catch((err: unknown) => { if (!isAlreadyExists(err)) throw err; });
  }

  // 4. Controllers, one per kind: Team (tenancy) and WebService (golden path and its rollouts), over one
  //    informer factory: one list+watch per kind for the whole process, the API server's included.
  const clients = KubeClients.fromKubeConfig(kc);
  const events = new EventRecorder(clients, { instance: identity, logger: log });
  const manager = createManager({
    logger: log,
    leaderElection: config.PAVED_LEADER_ELECTION
      ? { clients, namespace: config.PAVED_LEASE_NAMESPACE, name: 'paved-controller', identity,
          leaseDurationMs: config.PAVED_LEASE_DURATION_SECONDS * 1000 }
      : false,
  });
  const resyncPeriodMs = config.PAVED_RESYNC_SECONDS * 1000;
  const platform = platformFromConfig(config);
  const capabilities = await detectCapabilities(clients);
  log.info({ capabilities }, 'optional APIs detected');
  // onQuery feeds paved_analysis_queries_total and the query-duration histogram (the delivery dashboard's panels).
  const provider = metricsProviderFor(prometheusUrl, { timeoutMs: 5_000, onQuery: recordQuery });

  const selector = config.PAVED_SELECTOR;
  const informers = createInformerFactory({ clients, logger: log, resyncPeriodMs });
  const tenancy = createTenancyController({ clients, config, logger: log, events, informers, ...(selector ? { teamSelector: selector } : {}) });
  const webServices = await createWebServiceController({ clients, platform, capabilities, logger: log, informers,
    workers: config.PAVED_WORKERS, resyncPeriodMs, delivery: { provider }, ...(selector ? { selector } : {}),
    ...(hostMapName ? { hostMap: { namespace: hostMapNamespace, name: hostMapName } } : {}) });
  manager.addController(tenancy.controller, webServices.controller, ...webServices.extraControllers);
  cleanups.push(() => manager.stop(), () => tenancy.dispose(), () => webServices.dispose());

  // 5. Cost: endpoints for everyone, budget evaluation on the leader only.
  const teams = tenancy.caches.teams;
  const listTeams = () => teams.list() as KubernetesObject[];
  const pricing = await loadPricing(config.PAVED_PRICING_FILE);
  const cost = createCost({ prometheusUrl: prometheusUrl ?? 'http://127.0.0.1:9', pricing, listTeams, logger: log,
    registry: metricsRegistry, routePrefix: '' });
  const budgets = startBudgetLoop(
    { cost: cost.service, clients, events, listTeams: () => (manager.isActive() ? listTeams() : []),
      metrics: budgetMetrics(metricsRegistry), logger: log },
    { intervalMs: config.PAVED_BUDGET_INTERVAL_SECONDS * 1000 },
  );
  cleanups.push(() => budgets.stop());

  // 5b. Rightsizing: the engine on the leader only (node-cron), its route for everyone.
  const rightsizing = await createRightsizing({ clients, informers, events, logger: log, registry: metricsRegistry,
    prometheusUrl: prometheusUrl ?? 'http://127.0.0.1:9', pricing, cron: config.PAVED_RIGHTSIZING_CRON,
    defaultMode: config.PAVED_RIGHTSIZING_DEFAULT_MODE, timezone: config.PAVED_RIGHTSIZING_TIMEZONE,
    rateWindow: config.PAVED_RIGHTSIZING_RATE_WINDOW, settingsFile: config.PAVED_RIGHTSIZING_FILE,
    team: (name) => teams.getByName(name), isLeader: () => manager.isActive(),
    teamOfNamespace: (ns) => tenancy.caches.namespaces.getByName(ns)?.metadata?.labels?.['paved.dev/team'] });
  cleanups.push(() => rightsizing.stop());

  // 6. The live API over the same caches (the factory's shared informers).
  // Namespace ownership comes from the team Namespace informer (labels the tenancy controller wrote).
  const { deployments, httpRoutes } = webServices;
  const sources = { teams, namespaces: tenancy.caches.namespaces, webServices: webServices.webServices,
    deployments, ...(httpRoutes ? { httpRoutes } : {}) };
  const hub = new StreamHub();
  const feed = startFeed({ sources, hub, logger: log });
  const authMode = authModeFromConfig(config);
  const api = createApp({
    sources, hub, logger: log, auth: authMode, roles: rolesFromConfig(config), registry: metrics,
    writer: createResourceWriter({ kubeConfig: kc, clients, reviewCallers: authMode.kind === 'oidc' }),
    routes: [{ path: '/cost', app: cost.routes, servesWhileSyncing: true }, rightsizing.routes],
    preview: rendererPreview((ws, team) => webServices.preview(ws, team)),
    projectMonthlyCost: requestsCostProjection(pricing),
    portal: portalFromConfig(config),
  });
  const server = await startServer({ api, authMode: authMode.kind, port: config.PAVED_HTTP_PORT,
    ...(config.PAVED_HTTP_HOST ? { host: config.PAVED_HTTP_HOST } : {}), logger: log });
  log.info({ url: `http://${server.host}:${server.port}` }, `paved API listening on http://${server.host}:${server.port}`);
  cleanups.push(() => server.close(), () => feed.stop());

  // Local stack only: simulated requests per WebService, so rollouts progress (docs/operations.md).
  if (stack && config.PAVED_LOCAL_EXTRAS) {
    const demo = startDemoTraffic({ source: webServices.webServices, prometheus: stack.prometheus,
      onError: (err) => log.warn({ err: describeError(err) }, 'demo traffic: an emitter failed') });
    demoRoutes = demoTrafficRoutes(demo);
    log.info(`demo traffic on: inject a canary fault with curl -X POST -d '{"errorRate":0.3}' http://${probeHost}:${config.PAVED_METRICS_PORT}/demo/traffic/NAMESPACE/NAME/canary`);
    cleanups.push(() => demo.stop());
  }

  // Every informer any consumer asked for, each once: one watch per kind.
  manager.addInformer(...informers.informers());
  log.info({ watches: informers.scopes().length, scopes: informers.scopes() }, 'shared informers');
  await manager.start();
  // With the caches synced: keep the month and week reports warm (a cold 30-day query takes seconds).
  if (prometheusUrl) {
    const warmer = startCostWarmer({ cost: cost.service, logger: log });
    cleanups.push(() => warmer.stop());
  }
  ready = true;
  log.info({ identity, leaderElection: config.PAVED_LEADER_ELECTION }, 'controllers started');
  void manager.done.then((why) => {
    if (why === 'lost-leadership') void shutdown('lost leadership', 1);
  });
} catch (err) {
  log.fatal({ err: describeError(err) }, 'start-up failed');
  await shutdown('start-up failed', 1);
}
