/**
 * Writes on behalf of a caller. Every write the API makes for a person carries that person's identity
 * (`Impersonate-User` and one `Impersonate-Group` header per group), so Kubernetes RBAC decides, not
 * the API: the team scoping in the routes is a first gate, the API server is the authority.
 *
 * Impersonation is src/kube's identity module: `KubeClients.impersonate({ user, groups })` (counted
 * transport, raw JSON, one bounded cache of per-identity clients).
 *
 * In the loopback-only development mode (no OIDC) there is no person to impersonate: writes go out
 * with the controller's own credentials, which is what a developer running paved locally expects.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { KubeClients, type Identity } from '../kube/index.js';
import type { Caller } from '../access/index.js';

/** The identity a write is made as; undefined means the server's own credentials. */
export type WriteIdentity = Required<Identity>;

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
  /** The server's clients (their identity cache holds the callers' clients). Default: built from kubeConfig. */
  clients?: KubeClients;
  /** Most identities whose clients are kept when the writer builds its own clients. Default 128. */
  maxClients?: number;
}

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

/** Builds the writer. Clients per caller come from the identity cache of `clients` (bounded, LRU). */
export function createResourceWriter(opts: WriterOptions): ResourceWriter {
  const own = opts.clients ?? KubeClients.fromKubeConfig(opts.kubeConfig, { maxIdentities: opts.maxClients ?? 128 });
  const clientsFor = (caller: Caller): KubeClients => (opts.impersonate ? own.impersonate(impersonationIdentity(caller)) : own);
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
