/**
 * A synthetic service for analysis tests: an HTTP server on loopback whose /metrics exposes, per track
 * (stable, canary), the RED metrics the analysis templates query: a request counter by status code
 * (`http_requests_total{namespace,service,track,code}`) and a duration histogram
 * (`http_request_duration_seconds{namespace,service,track}`). It does not serve real requests: a timer
 * "serves" `requestsPerSecond` per track, an exact share of them with status 500, each taking the
 * configured latency. Tests change a track's error rate, latency and request rate at any moment, and a
 * real Prometheus scrapes the server (addTarget with `hostPort`).
 *
 * With `followRoute`, it plays the gateway too: it watches the service's HTTPRoute on the API server and
 * sends each track its share of the requests by the route's backendRef weights, so a canary with
 * weight 0 (or no route yet) gets no request at all, exactly as behind a real gateway. A track's rate is
 * then its configured rate times its share (both tracks default to `requestsPerSecond`, so that is the
 * total load split by the weights). Without it, both tracks get their configured rate all the time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Counter, Histogram, Registry } from 'prom-client';
import { routeCanaryWeight } from '../delivery/observe.js';
import { KubeClients, createInformer, type Informer } from '../kube/index.js';

export type Track = 'stable' | 'canary';

export interface TrafficEmitterOptions {
  namespace: string;
  service: string;
  /** Requests per second per track at the start (default 50). */
  requestsPerSecond?: number;
  /** How often requests are counted (default 100 ms). */
  tickMs?: number;
  /** Split the requests by the weights of this HTTPRoute (`<namespace>/<service>` by default), as a gateway would. */
  followRoute?: { kubeConfig: KubeConfig; name?: string };
}

export interface TrafficEmitter {
  /** `127.0.0.1:PORT`, for Prometheus' addTarget. */
  readonly hostPort: string;
  readonly url: string;
  /** Share of requests answered with 500 (0..1). */
  setErrorRate(track: Track, rate: number): void;
  /** Duration of every request, in seconds. */
  setLatency(track: Track, seconds: number): void;
  /** Requests per second (0 = no traffic). */
  setRequestRate(track: Track, perSecond: number): void;
  /** Requests counted so far (by track and code), as the /metrics page shows them. */
  counts(): Promise<Record<string, number>>;
  /** The canary's share (percent) the emitter follows now: the route's with `followRoute`, else undefined. */
  canaryWeight(): number | undefined;
  stop(): Promise<void>;
}

interface TrackState {
  errorRate: number;
  latency: number;
  rps: number;
  /** Fractions carried between ticks so that rates are exact. */
  carryRequests: number;
  carryErrors: number;
}

/** The request counter the analysis templates query: `http_requests_total{namespace,service,track,code}`. */
export function createRequestCounter(registry: Registry): Counter<'namespace' | 'service' | 'track' | 'code'> {
  return new Counter({
    name: 'http_requests_total',
    help: 'Requests served, by track and status code.',
    labelNames: ['namespace', 'service', 'track', 'code'] as const,
    registers: [registry],
  });
}

/** Serves `registry` at /metrics on 127.0.0.1 (random port); 404 elsewhere. */
export async function serveMetrics(registry: Registry): Promise<{ server: Server; hostPort: string }> {
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/metrics')) {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, hostPort: `127.0.0.1:${port}` };
}

/** Starts an emitter on 127.0.0.1 (random port). */
export async function startTrafficEmitter(opts: TrafficEmitterOptions): Promise<TrafficEmitter> {
  const registry = new Registry();
  const requests = createRequestCounter(registry);
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Request duration.',
    labelNames: ['namespace', 'service', 'track'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const tracks: Record<Track, TrackState> = {
    stable: { errorRate: 0, latency: 0.02, rps: opts.requestsPerSecond ?? 50, carryRequests: 0, carryErrors: 0 },
    canary: { errorRate: 0, latency: 0.02, rps: opts.requestsPerSecond ?? 50, carryRequests: 0, carryErrors: 0 },
  };
  const tickMs = opts.tickMs ?? 100;
  const base = { namespace: opts.namespace, service: opts.service };
  let route: Informer<KubernetesObject> | undefined;
  let canaryWeight = 0; // no route yet: everything goes to the stable track
  if (opts.followRoute) {
    const name = opts.followRoute.name ?? opts.service;
    route = createInformer<KubernetesObject>({
      clients: KubeClients.fromKubeConfig(opts.followRoute.kubeConfig),
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${name}`,
    });
    const follow = (obj: KubernetesObject | undefined) => void (canaryWeight = routeCanaryWeight(obj, opts.service) ?? 0);
    route.on('add', follow);
    route.on('update', follow);
    route.on('delete', () => follow(undefined));
    await route.start();
    await route.waitForSync();
  }
  /** A track's share of its configured rate: 1 without a route to follow. */
  const share = (track: Track): number => (route ? (track === 'canary' ? canaryWeight : 100 - canaryWeight) / 100 : 1);
  // Series exist from the start, so "no traffic" reads as a zero rate (NaN ratio), not a missing series.
  for (const track of ['stable', 'canary'] as const) requests.inc({ ...base, track, code: '200' }, 0);

  const timer = setInterval(() => {
    for (const track of ['stable', 'canary'] as const) {
      const t = tracks[track];
      const exact = (t.rps * share(track) * tickMs) / 1000 + t.carryRequests;
      const n = Math.floor(exact);
      t.carryRequests = exact - n;
      if (n === 0) continue;
      const errExact = n * t.errorRate + t.carryErrors;
      const errors = Math.floor(errExact);
      t.carryErrors = errExact - errors;
      if (errors > 0) requests.inc({ ...base, track, code: '500' }, errors);
      if (n - errors > 0) requests.inc({ ...base, track, code: '200' }, n - errors);
      for (let i = 0; i < n; i++) duration.observe({ ...base, track }, t.latency);
    }
  }, tickMs);
  timer.unref();

  const { server, hostPort } = await serveMetrics(registry);

  return {
    hostPort,
    url: `http://${hostPort}`,
    setErrorRate: (track, rate) => void (tracks[track].errorRate = Math.min(1, Math.max(0, rate))),
    setLatency: (track, seconds) => void (tracks[track].latency = Math.max(0, seconds)),
    setRequestRate: (track, perSecond) => void (tracks[track].rps = Math.max(0, perSecond)),
    async counts() {
      const m = await requests.get();
      const out: Record<string, number> = {};
      for (const v of m.values) out[`${v.labels.track}/${v.labels.code}`] = v.value;
      return out;
    },
    canaryWeight: () => (route ? canaryWeight : undefined),
    async stop() {
      clearInterval(timer);
      await route?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
