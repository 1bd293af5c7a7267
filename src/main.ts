/**
 * paved's entry point: wiring only. config -> cluster (KUBECONFIG, in-cluster, or a local stack it
 * starts) -> CRDs -> informers and controllers under leader election -> HTTP server.
 * Stops cleanly on SIGINT/SIGTERM; exits when leadership is lost so the process restarts clean.
 */
import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Registry, register } from 'prom-client';
import { loadConfig } from './config.js';
import { describeError } from './errors.js';
import { CRD_DIR, installCrds, yamlFiles } from './install/crds.js';
import { EventRecorder, KubeClients, createManager, isAlreadyExists, metricsRegistry } from './kube/index.js';
import { createLogger } from './log.js';
import { startLocalStack, type LocalStack } from './localcluster/stack.js';
import { createTenancyController } from './tenancy/controller.js';

const config = loadConfig();
const log = createLogger(config.PAVED_LOG_LEVEL);
const identity = config.POD_NAME ?? `${hostname()}-${process.pid}`;

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
  stack = await startLocalStack((line) => log.info({ component: 'local-stack' }, line));
  kc.loadFromFile(stack.cluster.kubeconfigPath);
  prometheusUrl ??= stack.prometheus.url;
  log.info({ kubeconfig: stack.cluster.kubeconfigPath, prometheus: prometheusUrl },
    `local cluster ready: export KUBECONFIG=${stack.cluster.kubeconfigPath} to use kubectl against it`);
}

const clients = KubeClients.fromKubeConfig(kc);
const events = new EventRecorder(clients, { instance: identity, logger: log });
const manager = createManager({
  logger: log,
  leaderElection: config.PAVED_LEADER_ELECTION
    ? { clients, namespace: config.PAVED_LEASE_NAMESPACE, name: 'paved-controller', identity,
        leaseDurationMs: config.PAVED_LEASE_DURATION_SECONDS * 1000 }
    : false,
});
const tenancy = createTenancyController({ clients, config, logger: log, events });
manager.addInformer(...tenancy.informers);
manager.addController(tenancy.controller);

let ready = false;
const metrics = Registry.merge([register, metricsRegistry]);
const app = new Hono();
app.get('/healthz', (c) => c.text('ok'));
app.get('/readyz', (c) => (ready ? c.text('ok') : c.text('starting', 503)));
app.get('/metrics', async (c) => c.text(await metrics.metrics(), 200, { 'content-type': metrics.contentType }));

const host = config.PAVED_HTTP_HOST ?? (config.PAVED_OIDC_ISSUER ? '0.0.0.0' : '127.0.0.1');
const server = serve({ fetch: app.fetch, port: config.PAVED_HTTP_PORT, hostname: host }, (info) => {
  log.info({ url: `http://${host}:${info.port}` }, `paved API listening on http://${host}:${info.port}`);
  if (stack) void stack.prometheus.addTarget('paved-controller', `127.0.0.1:${info.port}`);
});

let shuttingDown = false;
async function shutdown(reason: string, code = 0): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    log.info({ reason }, 'shutting down');
    ready = false;
    server.close();
    await manager.stop().catch((err: unknown) => log.error({ err: describeError(err) }, 'manager stop failed'));
    tenancy.dispose();
    await stack?.stop();
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const version = await kc.makeApiClient(VersionApi).getCode();
  log.info({ server: kc.getCurrentCluster()?.server, version: version.gitVersion }, 'connected to the Kubernetes API server');
  const crds = await installCrds(kc, yamlFiles(CRD_DIR));
  log.info({ crds }, 'installed CRDs');
  if (config.PAVED_LEADER_ELECTION) {
    await kc.makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: config.PAVED_LEASE_NAMESPACE } } })
      .catch((err: unknown) => { if (!isAlreadyExists(err)) throw err; });
  }
  await manager.start();
  ready = true;
  log.info({ identity, leaderElection: config.PAVED_LEADER_ELECTION }, 'controllers started');
} catch (err) {
  log.fatal({ err: describeError(err) }, 'start-up failed');
  await shutdown('start-up failed', 1);
}

void manager.done.then((why) => {
  if (why === 'lost-leadership') void shutdown('lost leadership', 1);
});
