/**
 * Wiring of the tenancy controller: informers (Teams, labelled Namespaces, and the namespaced objects
 * tenancy renders), the key mapping (every child maps to its Team by the `paved.dev/team` label) and
 * the reconciler. main.ts adds `informers` and `controller` to the manager (leader election, graceful
 * shutdown); tests and the benchmark use `startTenancyController`, which runs them directly.
 */
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { Labels, MANAGED_BY, PAVED_API_VERSION, type Team } from '../api/index.js';
import type { PavedConfig } from '../config.js';
import {
  createController,
  createInformerFactory,
  mapToLabel,
  type Controller,
  type EventRecorder,
  type Informer,
  type InformerFactory,
  type RunnableInformer,
  type KubeClients,
  type ReconcileOutcome,
} from '../kube/index.js';
import { registerOrphanSource } from './metrics.js';
import { TENANCY_OBJECT_KINDS, createTenancyReconciler, type TenancyCaches, type TenancyDeps } from './reconcile.js';
import { TENANCY_COMPONENT } from './render.js';

/** The configuration keys tenancy reads. */
export type TenancyConfig = Pick<
  PavedConfig,
  'PAVED_GATEWAY_NAMESPACE' | 'PAVED_MONITORING_NAMESPACE' | 'PAVED_ORPHAN_GRACE_SECONDS' | 'PAVED_RESYNC_SECONDS' | 'PAVED_WORKERS'
>;

/** Options of the tenancy controller. */
export interface TenancyControllerOptions {
  /** The controller identity. */
  clients: KubeClients;
  config: TenancyConfig;
  logger?: Logger;
  events?: EventRecorder;
  /** Test hooks. */
  now?: () => Date;
  beforeWrite?: TenancyDeps['beforeWrite'];
  /** Label selector of the Teams this controller watches (default all): sharding, and isolation in tests. */
  teamSelector?: string;
  /** Which Teams this controller handles (default all): see TenancyDeps.ownsTeam. */
  ownsTeam?: (name: string) => boolean;
  onOutcome?: (key: string, outcome: ReconcileOutcome, err?: unknown) => void;
  /** The process's shared informers (default: a factory of this controller's own). */
  informers?: InformerFactory;
}

/** The controller and what it needs running. */
export interface TenancyController {
  controller: Controller;
  caches: TenancyCaches;
  /** Every informer, for `manager.addInformer(...)`. */
  informers: RunnableInformer[];
  /** Number of orphan namespaces in the caches right now (also the paved_orphan_namespaces gauge). */
  orphanCount(): number;
  /** Unregisters the metric source (call after stopping). */
  dispose(): void;
}

/** Builds the tenancy controller (not started). */
export function createTenancyController(opts: TenancyControllerOptions): TenancyController {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const resyncPeriodMs = opts.config.PAVED_RESYNC_SECONDS * 1000;
  const factory = opts.informers ?? createInformerFactory({ clients: opts.clients, logger, resyncPeriodMs });
  const teams = factory.informer<Team>({
    apiVersion: PAVED_API_VERSION,
    kind: 'Team',
    ...(opts.teamSelector ? { labelSelector: opts.teamSelector } : {}),
    resync: true,
  });
  const namespaces = factory.informer<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', labelSelector: Labels.team, resync: true });
  const objects = new Map<string, Informer<KubernetesObject>>();
  for (const { apiVersion, kind } of TENANCY_OBJECT_KINDS) {
    // Every paved object of the kind: one watch shared with the WebService controller (which renders
    // ServiceAccounts and NetworkPolicies too). Children only need a resync through their Team.
    objects.set(kind, factory.informer<KubernetesObject>({ apiVersion, kind, labelSelector: `${Labels.managedBy}=${MANAGED_BY}` }));
  }
  const caches: TenancyCaches = { teams, namespaces, objects };
  const orphans = new Map<string, string>();
  const reconcile = createTenancyReconciler({
    clients: opts.clients,
    caches,
    platform: {
      gatewayNamespace: opts.config.PAVED_GATEWAY_NAMESPACE,
      monitoringNamespace: opts.config.PAVED_MONITORING_NAMESPACE,
    },
    orphanGraceSeconds: opts.config.PAVED_ORPHAN_GRACE_SECONDS,
    ...(opts.events ? { events: opts.events } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.beforeWrite ? { beforeWrite: opts.beforeWrite } : {}),
    ...(opts.ownsTeam ? { ownsTeam: opts.ownsTeam } : {}),
    orphans,
  });
  const controller = createController({
    name: 'tenancy',
    reconcile,
    workers: opts.config.PAVED_WORKERS,
    logger,
    ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
  });
  controller.watch(teams);
  const toTeam = mapToLabel(Labels.team);
  controller.watch(namespaces, toTeam);
  // Only tenancy's own objects map to a Team (the shared caches also hold the WebServices' children).
  const ownToTeam = (o: KubernetesObject) => (o.metadata?.labels?.[Labels.component] === TENANCY_COMPONENT ? toTeam(o) : []);
  for (const informer of objects.values()) controller.watch(informer, ownToTeam);

  // Orphans are confirmed by the reconciler (Team absent from the API server, not just the cache).
  const orphanCount = () => orphans.size;
  const dispose = registerOrphanSource(orphanCount);
  return { controller, caches, informers: [teams, namespaces, ...objects.values()], orphanCount, dispose };
}

/** A running tenancy controller without a manager (tests, benchmark). */
export interface RunningTenancyController extends TenancyController {
  stop(): Promise<void>;
}

/** Starts informers, waits for their caches, then starts the controller (no leader election). */
export async function startTenancyController(opts: TenancyControllerOptions): Promise<RunningTenancyController> {
  const tc = createTenancyController(opts);
  await Promise.all(tc.informers.map((i) => i.start()));
  await Promise.all(tc.informers.map((i) => i.waitForSync(120_000)));
  tc.controller.start();
  return {
    ...tc,
    async stop() {
      await tc.controller.stop({ drainTimeoutMs: 10_000 });
      await Promise.all(tc.informers.map((i) => i.stop()));
      tc.dispose();
    },
  };
}
