/**
 * `get ws NAME --watch`: the service's objects kept current from watches (no polling) and the view
 * redrawn on every change. Each kind is a list-then-watch loop of its own: when a watch ends with an
 * error (connection dropped, API server restarted) the loop reports it once, waits with a capped
 * backoff, re-lists (which also catches up on everything missed) and reports the resumption.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { PAVED_GROUP, PAVED_VERSION } from '../../api/index.js';
import { canaryName } from '../../delivery/observe.js';
import type { WebService } from '../../webservice/render/index.js';
import type { ServiceView } from './render/service-tree.js';

/** One watched collection: list returns the items and the resourceVersion to watch from. */
export interface Source {
  readonly kind: string;
  list(): Promise<{ items: KubernetesObject[]; resourceVersion: string }>;
  /** Starts a watch from `resourceVersion`; `done` is called once when it ends (err absent: closed normally). */
  watch(resourceVersion: string, onEvent: (type: string, obj: KubernetesObject) => void, done: (err?: unknown) => void): Promise<{ abort(): void }>;
}

export interface WatchCallbacks {
  /** The objects changed. */
  changed(): void;
  /** A connection state line: dropped or resumed. */
  status(line: string): void;
}

/** Backoff after a dropped watch: 0.5 s doubling to 8 s. Injectable for tests. */
export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A list+watch loop of one Source into a cache by name. */
export class WatchedCollection {
  readonly objects = new Map<string, KubernetesObject>();
  private stopped = false;
  private current?: { abort(): void };

  constructor(
    private readonly source: Source,
    private readonly cb: WatchCallbacks,
    private readonly sleep: Sleep = realSleep,
  ) {}

  /** Lists, then watches until stopped; resolves after the first successful list. */
  async start(): Promise<void> {
    const { resourceVersion } = await this.relist();
    void this.loop(resourceVersion);
  }

  stop(): void {
    this.stopped = true;
    this.current?.abort();
  }

  private async relist(): Promise<{ resourceVersion: string }> {
    const { items, resourceVersion } = await this.source.list();
    this.objects.clear();
    for (const o of items) this.objects.set(o.metadata?.name ?? '', o);
    this.cb.changed();
    return { resourceVersion };
  }

  private async loop(resourceVersion: string): Promise<void> {
    let rv = resourceVersion;
    let delay = 500;
    while (!this.stopped) {
      const err = await this.watchOnce(rv);
      if (this.stopped) return;
      if (err === undefined) {
        // closed normally (watch timeout): watch again from the last version seen
        rv = this.lastVersion ?? rv;
        continue;
      }
      this.cb.status(`connection lost watching ${this.source.kind}: ${describe(err)}; reconnecting`);
      for (;;) {
        await this.sleep(delay);
        if (this.stopped) return;
        try {
          rv = (await this.relist()).resourceVersion;
          this.cb.status(`connection resumed watching ${this.source.kind}`);
          delay = 500;
          break;
        } catch (e) {
          delay = Math.min(delay * 2, 8000);
          this.cb.status(`still disconnected (${this.source.kind}): ${describe(e)}; retrying in ${delay / 1000}s`);
        }
      }
    }
  }

  private lastVersion?: string;

  private watchOnce(rv: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.source
        .watch(
          rv,
          (type, obj) => {
            const name = obj.metadata?.name ?? '';
            if (obj.metadata?.resourceVersion) this.lastVersion = obj.metadata.resourceVersion;
            if (type === 'DELETED') this.objects.delete(name);
            else if (type === 'ADDED' || type === 'MODIFIED') this.objects.set(name, obj);
            else if (type === 'ERROR') return; // e.g. 410 Gone: done() follows and the loop re-lists
            this.cb.changed();
          },
          (err) => resolve(err),
        )
        .then(
          (req) => {
            this.current = req;
          },
          (err) => resolve(err ?? new Error('watch failed')),
        );
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

type ListFn = () => Promise<{ items: KubernetesObject[]; metadata?: { resourceVersion?: string } }>;

/** A Source over the API server: `list` with a typed client, `watch` on the same collection path. */
export function apiSource(kc: KubeConfig, kind: string, path: string, list: ListFn, fieldSelector?: string): Source {
  const watch = new Watch(kc);
  return {
    kind,
    async list() {
      try {
        const body = await list();
        return { items: body.items, resourceVersion: body.metadata?.resourceVersion ?? '' };
      } catch (err) {
        // a kind that is not installed (no Gateway API) is an empty collection
        if ((err as { code?: number }).code === 404) return { items: [], resourceVersion: '' };
        throw err;
      }
    },
    async watch(resourceVersion, onEvent, done) {
      const query: Record<string, string | boolean> = {};
      if (resourceVersion) query.resourceVersion = resourceVersion;
      if (fieldSelector) query.fieldSelector = fieldSelector;
      return watch.watch(path, query, onEvent as (t: string, o: unknown) => void, (err) => done(err ?? undefined));
    },
  };
}

/** The four collections of a service's tree and how to assemble the view from them. */
export function serviceSources(kc: KubeConfig, namespace: string, name: string): { sources: Source[]; view: (collections: WatchedCollection[]) => ServiceView | undefined } {
  const ns = encodeURIComponent(namespace);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const byName = `metadata.name=${name}`;
  const customList = (group: string, version: string, plural: string): ListFn => async () =>
    (await custom.listNamespacedCustomObject({ group, version, namespace, plural, fieldSelector: byName })) as Awaited<ReturnType<ListFn>>;
  const sources = [
    apiSource(kc, 'webservices', `/apis/${PAVED_GROUP}/${PAVED_VERSION}/namespaces/${ns}/webservices`, customList(PAVED_GROUP, PAVED_VERSION, 'webservices'), byName),
    apiSource(kc, 'deployments', `/apis/apps/v1/namespaces/${ns}/deployments`, () => apps.listNamespacedDeployment({ namespace })),
    apiSource(kc, 'pods', `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace })),
    apiSource(kc, 'httproutes', `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`, customList('gateway.networking.k8s.io', 'v1', 'httproutes'), byName),
  ];
  return {
    sources,
    view([ws, deps, pods, routes]) {
      const webService = ws?.objects.get(name) as WebService | undefined;
      if (!webService) return undefined;
      const stable = deps?.objects.get(name);
      const canary = deps?.objects.get(canaryName(name));
      const route = routes?.objects.get(name);
      return {
        webService,
        pods: [...(pods?.objects.values() ?? [])],
        ...(stable ? { stable } : {}),
        ...(canary ? { canary } : {}),
        ...(route ? { route } : {}),
      };
    },
  };
}
