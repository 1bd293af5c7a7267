/**
 * One traffic emitter for many services (bench only): `http_requests_total{namespace,service,track,code}`
 * for every service and track, counted every second, so that one scrape target serves N rollouts'
 * analyses with per-service series (the same counter and /metrics server as src/localcluster/traffic-emitter.ts).
 */
import { Registry } from 'prom-client';
import { createRequestCounter, serveMetrics } from '../src/localcluster/traffic-emitter.js';

export interface MultiEmitter {
  readonly hostPort: string;
  stop(): Promise<void>;
}

/** Starts an emitter of healthy traffic (`rps` per track, no errors) for `services` in `namespace`. */
export async function startMultiEmitter(namespace: string, services: readonly string[], rps = 20): Promise<MultiEmitter> {
  const registry = new Registry();
  const requests = createRequestCounter(registry);
  const children = services.flatMap((service) =>
    (['stable', 'canary'] as const).map((track) => requests.labels({ namespace, service, track, code: '200' })),
  );
  const timer = setInterval(() => {
    for (const c of children) c.inc(rps);
  }, 1000);
  timer.unref();
  const { server, hostPort } = await serveMetrics(registry);
  return {
    hostPort,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
