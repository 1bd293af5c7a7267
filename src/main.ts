/**
 * paved's entry point: wiring only. config -> cluster (KUBECONFIG, in-cluster, or a local stack it
 * starts) -> CRDs -> controllers -> HTTP server. Stops cleanly on SIGINT/SIGTERM.
 */
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { register } from 'prom-client';
import { loadConfig } from './config.js';
import { describeError } from './errors.js';
import { CRD_DIR, installCrds, yamlFiles } from './install/crds.js';
import { createLogger } from './log.js';
import { startLocalStack, type LocalStack } from './localcluster/stack.js';

const config = loadConfig();
const log = createLogger(config.PAVED_LOG_LEVEL);
const progress = (line: string) => log.info({ component: 'local-stack' }, line);

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
  stack = await startLocalStack(progress);
  kc.loadFromFile(stack.cluster.kubeconfigPath);
  prometheusUrl ??= stack.prometheus.url;
  log.info({ kubeconfig: stack.cluster.kubeconfigPath, prometheus: prometheusUrl },
    `local cluster ready: export KUBECONFIG=${stack.cluster.kubeconfigPath} to use kubectl against it`);
}

let ready = false;
const app = new Hono();
app.get('/healthz', (c) => c.text('ok'));
app.get('/readyz', (c) => (ready ? c.text('ok') : c.text('starting', 503)));
app.get('/metrics', async (c) => c.text(await register.metrics(), 200, { 'content-type': register.contentType }));

const hostname = config.PAVED_HTTP_HOST ?? (config.PAVED_OIDC_ISSUER ? '0.0.0.0' : '127.0.0.1');
const server = serve({ fetch: app.fetch, port: config.PAVED_HTTP_PORT, hostname }, (info) => {
  log.info({ url: `http://${hostname}:${info.port}` }, `paved API listening on http://${hostname}:${info.port}`);
  if (stack) void stack.prometheus.addTarget('paved-controller', `127.0.0.1:${info.port}`);
});

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  ready = false;
  server.close();
  await stack?.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const version = await kc.makeApiClient(VersionApi).getCode();
  log.info({ server: kc.getCurrentCluster()?.server, version: version.gitVersion }, 'connected to the Kubernetes API server');
  const crds = await installCrds(kc, yamlFiles(CRD_DIR));
  log.info({ crds }, 'installed CRDs');
  ready = true;
} catch (err) {
  log.fatal({ err: describeError(err) }, 'start-up failed');
  await stack?.stop();
  process.exit(1);
}
