/**
 * The API's own Prometheus metrics, on the registry `/metrics` serves (the controller's registry, so one
 * scrape shows both). Created once per registry.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { perRegistry } from '../kube/metrics.js';
import type { HubStats } from './hub.js';

/** The API metrics. */
export interface ApiMetrics {
  requests: Counter<'method' | 'route' | 'status'>;
  requestSeconds: Histogram<'method' | 'route'>;
  streamClients: Gauge;
  streamSlowConsumers: Counter;
  /** Hubs whose stats are exported at scrape time (messages sent, replay ring size). */
  hubs: Set<{ stats(): HubStats }>;
  streamDeadPeers: Counter;
  auditEvents: Counter<'result'>;
}

/** Returns the API metrics registered on `registry` (registering them the first time). */
export const apiMetrics = perRegistry((registers): ApiMetrics => {
  const m: ApiMetrics = {
    requests: new Counter({ name: 'paved_api_requests_total', help: 'API requests by method, route and status', labelNames: ['method', 'route', 'status'], registers }),
    requestSeconds: new Histogram({
      name: 'paved_api_request_duration_seconds',
      help: 'API request duration',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    streamClients: new Gauge({ name: 'paved_api_stream_clients', help: 'Connected stream clients', registers }),
    hubs: new Set(),
    streamSlowConsumers: new Counter({ name: 'paved_api_stream_slow_consumers_total', help: 'Stream clients closed for a full send buffer', registers }),
    streamDeadPeers: new Counter({ name: 'paved_api_stream_dead_peers_total', help: 'Stream clients closed for missing heartbeats', registers }),
    auditEvents: new Counter({ name: 'paved_api_audit_events_total', help: 'Mutating API calls by result', labelNames: ['result'], registers }),
  };
  const sum = (f: (s: HubStats) => number): number => [...m.hubs].reduce((acc, h) => acc + f(h.stats()), 0);
  new Gauge({
    name: 'paved_api_stream_messages_sent',
    help: 'Stream messages handed to client sockets since start (all clients)',
    registers,
    collect() {
      this.set(sum((s) => s.messagesSent));
    },
  });
  new Gauge({
    name: 'paved_api_stream_replay_bytes',
    help: 'Bytes held in the stream replay buffer',
    registers,
    collect() {
      this.set(sum((s) => s.replayBytes));
    },
  });
  new Gauge({
    name: 'paved_api_stream_sequence',
    help: 'Last stream sequence number',
    registers,
    collect() {
      this.set(sum((s) => s.seq));
    },
  });
  return m;
});
