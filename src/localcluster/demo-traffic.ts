/**
 * Demo traffic of the local stack (`npm run paved` without a cluster, never against a real one):
 * every WebService gets a traffic emitter (the one the tests use) registered with the local
 * Prometheus, so the analysis templates find `http_requests_total` and the request-duration
 * histogram for its stable and canary tracks. Healthy by default, so a change rolls out 10 -> 50
 * -> 100; `injectFault` (behind a local-only route, see `demoTrafficRoutes`) gives one service's
 * canary an error rate or a latency, so the newcomer sees a rollback and its reason.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Hono } from 'hono';
import { z } from 'zod';
import type { LocalPrometheus } from './prometheus.js';
import { startTrafficEmitter, type TrafficEmitter } from './traffic-emitter.js';

/** The subset of the WebService informer demo traffic follows. */
export interface WebServiceSource {
  list(): KubernetesObject[];
  on(event: 'add' | 'update' | 'delete', handler: (obj: KubernetesObject) => void): () => void;
}

export interface DemoTraffic {
  /** Services with an emitter, as `namespace/name`. */
  services(): string[];
  /** Sets the canary's share of 500s (0..1) and/or its latency (seconds); undefined leaves one as is. */
  injectFault(namespace: string, name: string, fault: Fault): boolean;
  stop(): Promise<void>;
}

export interface Fault {
  readonly errorRate?: number | undefined;
  readonly latencySeconds?: number | undefined;
}

/** Requests per second per track: enough for every analysis window to hold data. */
const DEMO_RPS = 20;

export function startDemoTraffic(opts: { source: WebServiceSource; prometheus: Pick<LocalPrometheus, 'addTarget' | 'removeTarget'>; onError?: (err: unknown) => void }): DemoTraffic {
  const emitters = new Map<string, Promise<TrafficEmitter>>();
  const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  const add = (o: KubernetesObject) => {
    const key = keyOf(o);
    if (emitters.has(key) || !o.metadata?.namespace || !o.metadata.name) return;
    const namespace = o.metadata.namespace;
    const service = o.metadata.name;
    const started = startTrafficEmitter({ namespace, service, requestsPerSecond: DEMO_RPS }).then(async (e) => {
      await opts.prometheus.addTarget('paved-demo-traffic', e.hostPort, { demo_service: key });
      return e;
    });
    started.catch((err: unknown) => opts.onError?.(err));
    emitters.set(key, started);
  };
  const remove = (o: KubernetesObject) => {
    const key = keyOf(o);
    const e = emitters.get(key);
    if (!e) return;
    emitters.delete(key);
    void e.then(async (em) => {
      await opts.prometheus.removeTarget('paved-demo-traffic', em.hostPort);
      await em.stop();
    }).catch((err: unknown) => opts.onError?.(err));
  };
  const unsubscribe = [opts.source.on('add', add), opts.source.on('update', add), opts.source.on('delete', remove)];
  for (const o of opts.source.list()) add(o);

  return {
    services: () => [...emitters.keys()].sort(),
    injectFault(namespace, name, fault) {
      const e = emitters.get(`${namespace}/${name}`);
      if (!e) return false;
      void e.then((em) => {
        if (fault.errorRate !== undefined) em.setErrorRate('canary', fault.errorRate);
        if (fault.latencySeconds !== undefined) em.setLatency('canary', fault.latencySeconds);
      });
      return true;
    },
    async stop() {
      for (const u of unsubscribe) u();
      const all = [...emitters.values()];
      emitters.clear();
      await Promise.all(all.map((p) => p.then((em) => em.stop(), () => undefined)));
    },
  };
}

const faultBody = z.object({
  errorRate: z.number().min(0).max(1).optional(),
  latencySeconds: z.number().min(0).max(60).optional(),
}).refine((b) => b.errorRate !== undefined || b.latencySeconds !== undefined, { message: 'give errorRate (0..1) or latencySeconds (0..60)' });

/**
 * Local-only routes, mounted on the local stack's loopback health listener (never on the API):
 *   GET  /demo/traffic                              the services with demo traffic
 *   POST /demo/traffic/:namespace/:name/canary      {"errorRate":0.3} or {"latencySeconds":2}
 *   POST /demo/traffic/:namespace/:name/canary      {"errorRate":0,"latencySeconds":0.02} heals it
 */
export function demoTrafficRoutes(demo: DemoTraffic): Hono {
  const app = new Hono();
  app.get('/demo/traffic', (c) => c.json({ services: demo.services() }));
  app.post('/demo/traffic/:namespace/:name/canary', async (c) => {
    const raw: unknown = await c.req.json().catch(() => undefined);
    const parsed = faultBody.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json({ error: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` }, 400);
    }
    const { namespace, name } = c.req.param();
    if (!demo.injectFault(namespace, name, parsed.data)) {
      return c.json({ error: `no demo traffic for WebService ${namespace}/${name}: it does not exist (yet)` }, 404);
    }
    return c.json({ service: `${namespace}/${name}`, canary: parsed.data });
  });
  return app;
}
