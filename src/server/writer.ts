/**
 * Writes on behalf of a caller. With OIDC, Kubernetes decides, not the API (the team scoping in the
 * routes is a first gate): before a write the server asks the API server, with a SubjectAccessReview,
 * whether the caller (their user and groups; never `system:` groups from a token) may do exactly that
 * write (verb, resource, namespace, name), and only then makes it impersonating the target namespace's
 * deployer, `system:serviceaccount:<namespace>:paved-deployer` (docs/tenancy.md, "The write boundary").
 * So the API's ServiceAccount needs `impersonate` on the team deployers only, never on arbitrary users
 * and groups, and a write can still not leave the namespace the review was about. A refusal is a 403
 * worded as the API server's own.
 *
 * In the loopback-only development mode (no OIDC) there is no person to review: writes go out with the
 * controller's own credentials, which is what a developer running paved locally expects.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  AUTHENTICATED_GROUP,
  KubeClients,
  forbiddenError,
  reviewAccess,
  serviceAccountUser,
  type Identity,
  type ResourceRequest,
} from '../kube/index.js';
import { TenancyNames } from '../tenancy/render.js';
import type { Caller } from '../access/index.js';

/** Whom a write is reviewed for: the caller's user and groups. */
export type CallerIdentity = Required<Identity>;

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
  /** True when callers are real people (OIDC): review each write, then make it as the namespace's deployer. False in local mode. */
  reviewCallers: boolean;
  /** The server's clients (their identity cache holds the deployers' clients). Default: built from kubeConfig. */
  clients?: KubeClients;
  /** Most deployer identities whose clients are kept when the writer builds its own clients. Default 128. */
  maxClients?: number;
}

/**
 * Who the API server is asked about for a caller. A token must not reach Kubernetes' reserved
 * identities: `system:` groups such as system:masters are dropped, and a `system:` subject is prefixed
 * with `oidc:` (as the API server's own OIDC authenticator does with its username prefix).
 */
export function callerIdentity(caller: Caller): CallerIdentity {
  const user = caller.subject.startsWith('system:') ? `oidc:${caller.subject}` : caller.subject;
  const groups = caller.groups.filter((g) => !g.startsWith('system:'));
  return { user, groups: [...groups].sort() };
}

/** The authorizer's view of a write to WebServices (what the API server itself would check). */
function webServiceRequest(verb: 'create' | 'patch' | 'delete', namespace: string, name?: string): ResourceRequest {
  return { verb, group: 'paved.dev', version: 'v1alpha1', resource: 'webservices', namespace, ...(name ? { name } : {}) };
}

/** Builds the writer. The deployers' clients come from the identity cache of `clients` (bounded, LRU). */
export function createResourceWriter(opts: WriterOptions): ResourceWriter {
  const own = opts.clients ?? KubeClients.fromKubeConfig(opts.kubeConfig, { maxIdentities: opts.maxClients ?? 128 });
  const deployer = (namespace: string): KubeClients => own.impersonate(serviceAccountUser(namespace, TenancyNames.deployer));
  /** Throws the API server's 403 unless the caller may do `request`; the API server adds system:authenticated likewise. */
  const review = async (caller: Caller, request: ResourceRequest): Promise<void> => {
    const { user, groups } = callerIdentity(caller);
    const decision = await reviewAccess(own, { user, groups: [...groups, AUTHENTICATED_GROUP] }, request);
    if (!decision.allowed) throw forbiddenError(user, request, decision);
  };
  /** The clients for one write: the deployer of its namespace once the caller is allowed it; in local mode, our own. */
  const writerFor = async (caller: Caller, request: ResourceRequest): Promise<KubeClients> => {
    if (!opts.reviewCallers) return own;
    await review(caller, request);
    return deployer(request.namespace ?? '');
  };
  const dry = (dryRun?: boolean): Record<string, string> => (dryRun ? { dryRun: 'All' } : {});
  return {
    async create(obj, caller, o = {}) {
      const ns = obj.metadata?.namespace ?? '';
      const clients = await writerFor(caller, webServiceRequest('create', ns));
      return clients.request<KubernetesObject>({
        method: 'POST',
        path: webServicePath(ns),
        query: { fieldManager: API_FIELD_MANAGER, ...dry(o.dryRun) },
        body: obj,
      });
    },
    async apply(obj, caller, o = {}) {
      const ns = obj.metadata?.namespace ?? '';
      const name = obj.metadata?.name ?? '';
      let clients = own;
      if (opts.reviewCallers) {
        // An apply that creates the object also needs `create` (the API server checks it then): both
        // are asked at once, and a missing `create` matters only when the object does not exist.
        const [patch, create] = await Promise.allSettled([review(caller, webServiceRequest('patch', ns, name)), review(caller, webServiceRequest('create', ns))]);
        if (patch.status === 'rejected') throw patch.reason;
        clients = deployer(ns);
        if (create.status === 'rejected' && !(await clients.get({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', namespace: ns, name }))) throw create.reason;
      }
      return clients.request<KubernetesObject>({
        method: 'PATCH',
        path: webServicePath(ns, name),
        query: { fieldManager: API_FIELD_MANAGER, force: true, ...dry(o.dryRun) },
        contentType: 'application/apply-patch+yaml',
        body: JSON.stringify(obj),
      });
    },
    async annotate(ref, annotations, caller) {
      const clients = await writerFor(caller, webServiceRequest('patch', ref.namespace, ref.name));
      return clients.request<KubernetesObject>({
        method: 'PATCH',
        path: webServicePath(ref.namespace, ref.name),
        query: { fieldManager: API_FIELD_MANAGER },
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations } },
      });
    },
    async delete(ref, caller) {
      const clients = await writerFor(caller, webServiceRequest('delete', ref.namespace, ref.name));
      return clients.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', ...ref });
    },
  };
}
