/**
 * Writes on behalf of a caller. Every write the API makes for a person carries that person's identity
 * (`Impersonate-User` and one `Impersonate-Group` header per group), so Kubernetes RBAC decides, not
 * the API: the team scoping in the routes is a first gate, the API server is the authority.
 *
 * client-node sends headers from a plain object (one value per name), and a comma-joined
 * `Impersonate-Group` would be read by the API server as ONE group. node-fetch, though, accepts any
 * iterable of pairs as headers, so the impersonating KubeConfig gives the header object an iterator
 * that yields one pair per group. Writes use src/kube's KubeClients (counted transport, raw JSON).
 *
 * In the loopback-only development mode (no OIDC) there is no person to impersonate: writes go out
 * with the controller's own credentials, which is what a developer running paved locally expects.
 */
import { KubeConfig, type KubernetesObject, type RequestContext } from '@kubernetes/client-node';
import { KubeClients } from '../kube/index.js';
import type { Caller } from './caller.js';

/** The identity a write is made as; undefined means the server's own credentials. */
export interface WriteIdentity {
  user: string;
  groups: readonly string[];
}

/** A KubeConfig that impersonates a user and groups on every request. */
export class ImpersonatingKubeConfig extends KubeConfig {
  constructor(
    base: KubeConfig,
    readonly identity: WriteIdentity,
  ) {
    super();
    this.loadFromOptions({
      clusters: base.clusters,
      contexts: base.contexts,
      currentContext: base.getCurrentContext(),
      users: base.users,
    });
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const headers = context.getHeaders();
    for (const k of Object.keys(headers)) if (/^impersonate-/i.test(k)) delete headers[k];
    headers['Impersonate-User'] = this.identity.user;
    const groups = this.identity.groups;
    Object.defineProperty(headers, Symbol.iterator, {
      enumerable: false,
      configurable: true,
      value: function* pairs(this: Record<string, string>): Generator<[string, string]> {
        for (const [k, v] of Object.entries(this)) yield [k, v];
        for (const g of groups) yield ['Impersonate-Group', g];
      },
    });
  }
}

/** Reference to a WebService. */
export interface WebServiceRef {
  namespace: string;
  name: string;
}

/** The writes the API makes. Errors are src/kube `KubeApiError`s (mapped to API errors by api-error.ts). */
export interface ResourceWriter {
  /** Creates a WebService (409 when it exists). `dryRun` asks the API server to validate only. */
  create(obj: KubernetesObject, caller: Caller, opts?: { dryRun?: boolean }): Promise<KubernetesObject>;
  /** Server-side applies a WebService's intent (field manager `paved-api`, forced). */
  apply(obj: KubernetesObject, caller: Caller, opts?: { dryRun?: boolean }): Promise<KubernetesObject>;
  /** Merge-patches metadata.annotations (manual rollout controls). */
  annotate(ref: WebServiceRef, annotations: Record<string, string | null>, caller: Caller): Promise<KubernetesObject>;
  /** Deletes a WebService; false when it was already gone. */
  delete(ref: WebServiceRef, caller: Caller): Promise<boolean>;
}

/** The field manager of writes made through the API (distinct from the controller's `paved`). */
export const API_FIELD_MANAGER = 'paved-api';

function webServicePath(namespace: string, name?: string): string {
  const base = `/apis/paved.dev/v1alpha1/namespaces/${encodeURIComponent(namespace)}/webservices`;
  return name ? `${base}/${encodeURIComponent(name)}` : base;
}

/** Options of the writer. */
export interface WriterOptions {
  kubeConfig: KubeConfig;
  /** True when callers are real people (OIDC): impersonate them. False in local mode. */
  impersonate: boolean;
  /** Most identities whose clients are kept. Default 128. */
  maxClients?: number;
}

/** Builds the writer. Clients are cached per identity (bounded, least recently used evicted). */
/**
 * Who the API server is asked to impersonate for a caller. A token must not reach Kubernetes' reserved
 * identities (the controller may impersonate anyone): `system:` groups such as system:masters are
 * dropped, and a `system:` subject is prefixed with `oidc:` (as the API server's own OIDC
 * authenticator does with its username prefix).
 */
export function impersonationIdentity(caller: Caller): WriteIdentity {
  const user = caller.subject.startsWith('system:') ? `oidc:${caller.subject}` : caller.subject;
  const groups = caller.groups.filter((g) => !g.startsWith('system:'));
  return { user, groups: [...groups].sort() };
}

export function createResourceWriter(opts: WriterOptions): ResourceWriter {
  const own = KubeClients.fromKubeConfig(opts.kubeConfig);
  const cache = new Map<string, KubeClients>();
  const max = opts.maxClients ?? 128;
  const clientsFor = (caller: Caller): KubeClients => {
    if (!opts.impersonate) return own;
    const identity = impersonationIdentity(caller);
    const key = JSON.stringify(identity);
    let clients = cache.get(key);
    if (clients) cache.delete(key);
    else clients = KubeClients.fromKubeConfig(new ImpersonatingKubeConfig(opts.kubeConfig, identity), { counter: own.counter });
    cache.set(key, clients);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return clients;
  };
  const dry = (dryRun?: boolean): Record<string, string> => (dryRun ? { dryRun: 'All' } : {});
  return {
    async create(obj, caller, o = {}) {
      const ns = obj.metadata?.namespace ?? '';
      return clientsFor(caller).request<KubernetesObject>({
        method: 'POST',
        path: webServicePath(ns),
        query: { fieldManager: API_FIELD_MANAGER, ...dry(o.dryRun) },
        body: obj,
      });
    },
    async apply(obj, caller, o = {}) {
      const ns = obj.metadata?.namespace ?? '';
      return clientsFor(caller).request<KubernetesObject>({
        method: 'PATCH',
        path: webServicePath(ns, obj.metadata?.name),
        query: { fieldManager: API_FIELD_MANAGER, force: true, ...dry(o.dryRun) },
        contentType: 'application/apply-patch+yaml',
        body: JSON.stringify(obj),
      });
    },
    async annotate(ref, annotations, caller) {
      return clientsFor(caller).request<KubernetesObject>({
        method: 'PATCH',
        path: webServicePath(ref.namespace, ref.name),
        query: { fieldManager: API_FIELD_MANAGER },
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations } },
      });
    },
    async delete(ref, caller) {
      return clientsFor(caller).delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', ...ref });
    },
  };
}
