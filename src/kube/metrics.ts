/**
 * Prometheus metrics of the controller itself, on one registry that main.ts serves on `/metrics`.
 * Metrics are process-wide singletons labelled by controller / queue name, so several controllers
 * (or tests) in one process share them without double registration.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The registry holding every paved metric (serve it with `await metricsRegistry.metrics()`). */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'paved_process_' });

const registers = [metricsRegistry];

/** The runtime's metric objects. */
export const kubeMetrics = {
  reconcileTotal: new Counter({
    name: 'paved_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, error, terminal, notfound).',
    labelNames: ['controller', 'result'] as const,
    registers,
  }),
  reconcileErrors: new Counter({
    name: 'paved_reconcile_errors_total',
    help: 'Reconciles that failed (error or terminal) by controller.',
    labelNames: ['controller'] as const,
    registers,
  }),
  reconcileDuration: new Histogram({
    name: 'paved_reconcile_duration_seconds',
    help: 'Duration of one reconcile.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  }),
  queueDepth: new Gauge({
    name: 'paved_workqueue_depth',
    help: 'Keys waiting to be processed (ready now).',
    labelNames: ['queue'] as const,
    registers,
  }),
  queueWaiting: new Gauge({
    name: 'paved_workqueue_delayed',
    help: 'Keys scheduled for later (addAfter / backoff).',
    labelNames: ['queue'] as const,
    registers,
  }),
  queueAdds: new Counter({
    name: 'paved_workqueue_adds_total',
    help: 'Keys added to the queue (after de-duplication).',
    labelNames: ['queue'] as const,
    registers,
  }),
  queueRetries: new Counter({
    name: 'paved_workqueue_retries_total',
    help: 'Rate-limited re-adds (failures).',
    labelNames: ['queue'] as const,
    registers,
  }),
  queueLatency: new Histogram({
    name: 'paved_workqueue_queue_duration_seconds',
    help: 'Time a key waits in the queue before a worker takes it.',
    labelNames: ['queue'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    registers,
  }),
  apiRequests: new Counter({
    name: 'paved_kube_api_requests_total',
    help: 'Requests to the Kubernetes API server by verb, resource and status code.',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers,
  }),
  informerRestarts: new Counter({
    name: 'paved_informer_restarts_total',
    help: 'Informer restarts after a list/watch error (410 re-lists are not counted).',
    labelNames: ['resource'] as const,
    registers,
  }),
  informerSynced: new Gauge({
    name: 'paved_informer_synced',
    help: '1 when the informer cache has completed its initial list.',
    labelNames: ['resource'] as const,
    registers,
  }),
  leader: new Gauge({
    name: 'paved_leader',
    help: '1 while this replica holds the leader lease.',
    labelNames: ['lease'] as const,
    registers,
  }),
};

/**
 * Memoises a capability's metrics per registry: prom-client refuses a second registration of a name, and
 * tests (or several API instances) ask for the same metrics more than once.
 */
export function perRegistry<T>(create: (registers: Registry[]) => T): (registry: Registry) => T {
  const made = new WeakMap<Registry, T>();
  return (registry) => {
    const found = made.get(registry);
    if (found !== undefined) return found;
    const created = create([registry]);
    made.set(registry, created);
    return created;
  };
}
