/**
 * One traffic emitter for many services (bench only): `http_requests_total{namespace,service,track,code}`
 * for every service and track, counted every second, so that one scrape target serves N rollouts'
 * analyses with per-service series (the same labels and query as test/support/traffic-emitter.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';

export interface MultiEmitter {
  readonly hostPort: string;
  stop(): Promise<void>;
}

/** Starts an emitter of healthy traffic (`rps` per track, no errors) for `services` in `namespace`. */
export async function startMultiEmitter(namespace: string, services: readonly string[], rps = 20): Promise<MultiEmitter> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests served, by track and status code.',
    labelNames: ['namespace', 'service', 'track', 'code'] as const,
    registers: [registry],
  });
  const children = services.flatMap((service) =>
    (['stable', 'canary'] as const).map((track) => requests.labels({ namespace, service, track, code: '200' })),
  );
  const timer = setInterval(() => {
    for (const c of children) c.inc(rps);
  }, 1000);
  timer.unref();
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/metrics')) {
      res.writeHead(404);
      res.end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
