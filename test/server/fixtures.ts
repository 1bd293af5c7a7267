/**
 * Fixtures of the server tests: Team and WebService objects, an in-memory world (caches), a recording
 * writer, a capturing logger, and an app builder.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { createApp, type ApiApp } from '../../src/server/app.js';
import type { AuthMode } from '../../src/server/auth.js';
import type { Caller } from '../../src/access/index.js';
import { StreamHub, type HubOptions } from '../../src/server/hub.js';
import { MemoryCache, type ServerSources } from '../../src/server/sources.js';
import type { ResourceWriter, WebServiceRef } from '../../src/server/writer.js';
import type { RouteModule } from '../../src/server/app.js';
import type { PortalOptions } from '../../src/server/portal.js';

export const roles = { adminGroup: 'paved:platform-admins', financeGroup: 'paved:finance' };

export function team(name: string, groups: string[], environments?: string[]): KubernetesObject {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'Team',
    metadata: { name },
    spec: { owners: { groups }, costCenter: 'cc-1', quota: { tier: 'small' }, ...(environments ? { environments } : {}) },
  } as KubernetesObject;
}

export interface WsOptions {
  generation?: number;
  image?: string;
  status?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export function webService(namespace: string, name: string, o: WsOptions = {}): KubernetesObject {
  return {
    apiVersion: 'paved.dev/v1alpha1',
    kind: 'WebService',
    metadata: { name, namespace, generation: o.generation ?? 1, ...(o.labels ? { labels: o.labels } : {}) },
    spec: { image: o.image ?? 'ghcr.io/acme/app:1.0.0', scaling: { minReplicas: 2, maxReplicas: 5 } },
    ...(o.status ? { status: o.status } : {}),
  } as KubernetesObject;
}

/** A Namespace as the tenancy controller labels it: owned by `team`. */
export function teamNamespace(name: string, team: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': team } },
  };
}

/** The caches of a small world: team-a (ns team-a) and team-b (ns team-b-dev, team-b-prod). */
export function world(): {
  sources: ServerSources;
  teams: MemoryCache;
  namespaces: MemoryCache;
  webServices: MemoryCache;
  deployments: MemoryCache;
  httpRoutes: MemoryCache;
} {
  const teams = new MemoryCache();
  const namespaces = new MemoryCache();
  const webServices = new MemoryCache();
  const deployments = new MemoryCache();
  const httpRoutes = new MemoryCache();
  teams.upsert(team('team-a', ['team-a']));
  teams.upsert(team('team-b', ['team-b'], ['dev', 'prod']));
  namespaces.upsert(teamNamespace('team-a', 'team-a'));
  namespaces.upsert(teamNamespace('team-b-dev', 'team-b'));
  namespaces.upsert(teamNamespace('team-b-prod', 'team-b'));
  return {
    sources: { teams, namespaces, webServices, deployments, httpRoutes },
    teams,
    namespaces,
    webServices,
    deployments,
    httpRoutes,
  };
}

export interface RecordedWrite {
  op: 'create' | 'apply' | 'annotate' | 'delete';
  caller: Caller;
  obj?: KubernetesObject;
  ref?: WebServiceRef;
  annotations?: Record<string, string | null>;
}

/** A writer that records calls and succeeds (or fails with `fail`). */
export function recordingWriter(fail?: (w: RecordedWrite) => Error | undefined): ResourceWriter & { writes: RecordedWrite[] } {
  const writes: RecordedWrite[] = [];
  const record = (w: RecordedWrite): void => {
    writes.push(w);
    const err = fail?.(w);
    if (err) throw err;
  };
  return {
    writes,
    async create(obj, caller) {
      record({ op: 'create', obj, caller });
      return obj;
    },
    async apply(obj, caller) {
      record({ op: 'apply', obj, caller });
      return obj;
    },
    async annotate(ref, annotations, caller) {
      record({ op: 'annotate', ref, annotations, caller });
      return { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { ...ref } };
    },
    async delete(ref, caller) {
      record({ op: 'delete', ref, caller });
      return true;
    },
  };
}

/** A pino logger whose JSON lines are kept in `lines`. */
export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void raw.push(s) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export interface TestApp extends ApiApp {
  writer: ReturnType<typeof recordingWriter>;
  hub: StreamHub;
  log: ReturnType<typeof capturingLogger>;
  registry: Registry;
}

/** Builds an app over the given world. */
export function buildApp(opts: {
  sources: ServerSources;
  auth: AuthMode;
  writer?: ReturnType<typeof recordingWriter>;
  hub?: StreamHub;
  hubOptions?: HubOptions;
  routes?: RouteModule[];
  stream?: { heartbeatMs?: number; closeGraceMs?: number };
  portal?: PortalOptions;
}): TestApp {
  const writer = opts.writer ?? recordingWriter();
  const hub = opts.hub ?? new StreamHub(opts.hubOptions);
  const log = capturingLogger();
  const registry = new Registry();
  const api = createApp({
    sources: opts.sources,
    hub,
    writer,
    auth: opts.auth,
    roles,
    logger: log.logger,
    registry,
    ...(opts.routes ? { routes: opts.routes } : {}),
    ...(opts.stream ? { stream: opts.stream } : {}),
    ...(opts.portal ? { portal: opts.portal } : {}),
  });
  return { ...api, writer, hub, log, registry };
}
