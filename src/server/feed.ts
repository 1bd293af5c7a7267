/**
 * Feeds the stream hub from informer events: a WebService, or a Deployment or HTTPRoute labelled
 * `paved.dev/service`, changes -> the service's view is projected again from the caches -> the hub
 * emits a delta if anything visible changed. Pushed by watch events, never polled; the projection reads
 * only caches, so the informer thread does a bounded amount of synchronous work per event.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { describeError } from '../errors.js';
import type { StreamHub } from './hub.js';
import type { ServerSources } from './sources.js';
import { namespaceIndex } from '../tenancy/namespaces.js';
import { projectView, type ServiceView } from './view.js';

const SERVICE_LABEL = 'paved.dev/service';

/** Options of the feed. */
export interface FeedOptions {
  sources: ServerSources;
  hub: StreamHub;
  now?: () => string;
  logger?: Logger;
}

/** A running feed; `stop()` detaches it from the informers. */
export interface Feed {
  /** Projects one service again (also used by REST reads to get the same view). */
  refresh(namespace: string, name: string): ServiceView | undefined;
  /** Projects every cached WebService (after a Team change, for example). */
  refreshAll(): void;
  stop(): void;
}

export { namespaceIndex };

/**
 * Builds the view of one service from the caches, or undefined when it is gone or has no team. The
 * team is the one owning the namespace, by the Namespace's own labels (teams.ts).
 */
export function buildView(
  sources: ServerSources,
  ref: { namespace: string; name: string },
  opts: { now: string; previous?: ServiceView | undefined; index?: ReadonlyMap<string, string> },
): ServiceView | undefined {
  const { namespace, name } = ref;
  const { now, previous } = opts;
  const index = opts.index ?? namespaceIndex(sources.namespaces.list());
  const ws = sources.webServices.getByName(name, namespace);
  if (!ws) return undefined;
  // Never the object's own paved.dev/team label: whoever can edit the object can write that.
  const team = index.get(namespace);
  if (!team) return undefined;
  const mine = (o: KubernetesObject): boolean => o.metadata?.labels?.[SERVICE_LABEL] === name;
  const deployments = sources.deployments?.list(namespace).filter(mine) ?? [];
  const route = sources.httpRoutes?.list(namespace).find(mine);
  return projectView({ webService: ws, team, deployments, ...(route ? { route } : {}) }, now, previous);
}

/** Starts feeding the hub; projects every cached WebService first. */
export function startFeed(opts: FeedOptions): Feed {
  const { sources, hub } = opts;
  const now = opts.now ?? (() => new Date().toISOString());

  // Rebuilt on Namespace events only; an event that does not move a namespace re-projects nothing.
  let index = namespaceIndex(sources.namespaces.list());
  const refresh = (namespace: string, name: string): ServiceView | undefined => {
    const key = `${namespace}/${name}`;
    try {
      const view = buildView(sources, { namespace, name }, { now: now(), previous: hub.view(key), index });
      if (view) hub.publish(view);
      else hub.remove(key);
      return view;
    } catch (err) {
      opts.logger?.error({ err: describeError(err), key }, 'stream: projecting a service failed');
      return undefined;
    }
  };
  const onService = (obj: KubernetesObject): void => {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (ns && name) refresh(ns, name);
  };
  const onChild = (obj: KubernetesObject, old?: KubernetesObject): void => {
    const ns = obj.metadata?.namespace;
    if (!ns) return;
    const names = new Set([obj.metadata?.labels?.[SERVICE_LABEL], old?.metadata?.labels?.[SERVICE_LABEL]]);
    for (const name of names) if (name) refresh(ns, name);
  };
  const refreshAll = (): void => {
    for (const ws of sources.webServices.list()) onService(ws);
  };
  const onNamespace = (): void => {
    const next = namespaceIndex(sources.namespaces.list());
    const same = next.size === index.size && [...next].every(([ns, team]) => index.get(ns) === team);
    index = next;
    if (!same) refreshAll();
  };

  const onServiceDeleted = (obj: KubernetesObject): void => {
    hub.remove(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
  };

  const offs: Array<() => void> = [];
  offs.push(sources.webServices.on('delete', onServiceDeleted));
  for (const event of ['add', 'update', 'delete'] as const) {
    if (event !== 'delete') offs.push(sources.webServices.on(event, onService));
    if (sources.deployments) offs.push(sources.deployments.on(event, onChild));
    if (sources.httpRoutes) offs.push(sources.httpRoutes.on(event, onChild));
    // A Namespace label change can move a namespace between teams: then re-project everything (rare).
    offs.push(sources.namespaces.on(event, onNamespace));
  }
  refreshAll();
  return {
    refresh,
    refreshAll,
    stop: () => {
      for (const off of offs) off();
    },
  };
}
