/**
 * Clients to the API server. One `KubeClients` bundle holds:
 * - `objects`: a KubernetesObjectApi (generic CRUD + server-side apply) on a counted, keep-alive transport;
 * - `makeApiClient(CoreV1Api)`: typed clients on the same transport;
 * - `request()` / `get()` / `list()`: raw JSON requests. The informer cache and status/finalizer writes use
 *   these so objects stay exactly as the API server sends them (client-node's typed deserialisation turns
 *   timestamps into Date objects, which would differ between a list and a watch event);
 * - `counter`: every request by verb and resource;
 * - `impersonate(identity)`: the same, acting as another user and groups (src/kube/identity.ts), cached
 *   in one bounded LRU per root bundle.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import {
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type HttpLibrary,
  type KubernetesListObject,
  type KubernetesObject,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { ApiCallCounter, classifyRequest } from './api-counter.js';
import { kubeApiErrorFrom, isNotFound } from './api-errors.js';
import { IdentityCache, ImpersonatingKubeConfig, httpLibraryFor, type Identity } from './identity.js';

export { impersonatingKubeConfig, serviceAccountUser } from './identity.js';

/** The field manager of paved's own writes that belong to no controller (status, finalizers, installs). */
export const FIELD_MANAGER = 'paved';

/**
 * One field manager per controller: two controllers applying the same object under one manager would
 * each drop the other's fields on every apply (an extra manifest named like the tenancy's default-deny
 * policy made allow-all live for seconds at a time). With separate managers the API server reports the
 * overlap as a conflict of named owners instead.
 */
export const FieldManagers = {
  tenancy: 'paved-tenancy',
  webService: 'paved-webservice',
  rightsizing: 'paved-rightsizing',
} as const;

/** Options of a KubeClients bundle. */
export interface KubeClientsOptions {
  /** Shared counter (impersonating copies share their parent's). */
  counter?: ApiCallCounter;
  /** Reuse TLS connections across requests (client-node makes a new agent per request). Default true. */
  keepAlive?: boolean;
  /** Most impersonating bundles kept (least recently used evicted). Default 2048. */
  maxIdentities?: number;
}

/** A raw JSON request. `path` starts with `/api` or `/apis`. */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json for bodies. */
  contentType?: string;
  signal?: AbortSignal;
}

/** What discovery says about a kind. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** The plural resource name, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
}

/** Identifies one object (or, without name, a collection). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
}

/** Options of `list`. */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

function apiVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

interface DiscoveryList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
}

/** State shared by a bundle and its impersonating copies (same server, same TLS credentials). */
interface SharedState {
  counter: ApiCallCounter;
  keepAlive: boolean;
  agent?: http.Agent;
  discovery: Map<string, Promise<DiscoveryList>>;
  impersonated: IdentityCache<KubeClients>;
}

/**
 * At most this many impersonating bundles are cached per root bundle (default of `maxIdentities`). One per
 * team namespace's deployer plus one per recent API caller; a bundle is about 2.3 KB of heap (measured with
 * 2,000 identities), so 2,048 is under 5 MiB and keeps 1,000 namespaces' deployers from evicting each other.
 */
const MAX_IMPERSONATED = 2048;

/**
 * A transport wrapper: counts each request with its status code and reuses one keep-alive agent.
 * `inner` sends (and impersonates, for an impersonating kubeconfig).
 */
function countingHttpLibrary(shared: SharedState, inner: HttpLibrary): HttpLibrary {
  const counter = shared.counter;
  const reuseAgent = (ctx: RequestContext): void => {
    if (!shared.keepAlive) return;
    const agent = ctx.getAgent();
    // Only plain agents: proxy agents keep their own behaviour. Impersonation is a header, so the
    // TLS identity (and thus the agent) is the same for every copy.
    if (!agent || (agent.constructor !== https.Agent && agent.constructor !== http.Agent)) return;
    shared.agent ??=
      agent instanceof https.Agent
        ? new https.Agent({ ...(agent as https.Agent & { options: https.AgentOptions }).options, keepAlive: true, maxSockets: 64 })
        : new http.Agent({ keepAlive: true, maxSockets: 64 });
    ctx.setAgent(shared.agent);
  };
  return wrapHttpLibrary({
    async send(ctx: RequestContext): Promise<ResponseContext> {
      reuseAgent(ctx);
      const { verb, resource } = classifyRequest(ctx.getHttpMethod(), ctx.getUrl(), ctx.getHeaders()['Content-Type']);
      try {
        const resp = await inner.send(ctx).toPromise();
        counter.record({ verb, resource, code: resp.httpStatusCode });
        return resp;
      } catch (err) {
        counter.record({ verb, resource, code: 0 });
        throw err;
      }
    },
  });
}

/** A bundle of clients sharing a transport and an API-call counter. See the module header. */
export class KubeClients {
  /** Generic CRUD and server-side apply (counted). */
  readonly objects: KubernetesObjectApi;
  /** Requests made through this bundle and its impersonating copies. */
  readonly counter: ApiCallCounter;
  private readonly configuration: Configuration;
  private readonly discovery: Map<string, Promise<DiscoveryList>>;

  private constructor(
    readonly kubeConfig: KubeConfig,
    private readonly shared: SharedState,
    /** The impersonated user, if any. */
    readonly identity?: string,
  ) {
    this.counter = shared.counter;
    this.discovery = shared.discovery;
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      httpApi: countingHttpLibrary(shared, httpLibraryFor(kubeConfig)),
    });
    this.objects = new KubernetesObjectApi(this.configuration);
  }

  /** Builds the bundle for a kubeconfig. */
  static fromKubeConfig(kc: KubeConfig, options: KubeClientsOptions = {}): KubeClients {
    return new KubeClients(kc, {
      counter: options.counter ?? new ApiCallCounter(),
      keepAlive: options.keepAlive ?? true,
      discovery: new Map(),
      impersonated: new IdentityCache({ max: options.maxIdentities ?? MAX_IMPERSONATED }),
    });
  }

  /**
   * The same clients acting as `identity`: a user (e.g. `serviceAccountUser(ns, 'paved-deployer')`) or a
   * user with groups. Cheap to call per request: copies are cached per identity (one bounded LRU per root
   * bundle) and share the counter, the connection pool and discovery. The root's own credentials must be
   * allowed to `impersonate` that user and those groups.
   */
  impersonate(identity: Identity | string): KubeClients {
    return this.shared.impersonated.get(
      identity,
      (id) => new KubeClients(new ImpersonatingKubeConfig(this.kubeConfig, id), this.shared, id.user),
    );
  }

  /** Drops the cached copy for `identity` (e.g. its namespace is gone); the next `impersonate` builds a new one. */
  forgetImpersonation(identity: Identity | string): void {
    this.shared.impersonated.delete(identity);
  }

  /** The impersonated user and groups of this bundle (undefined for the root). */
  get impersonation(): Required<Identity> | undefined {
    return this.kubeConfig instanceof ImpersonatingKubeConfig ? this.kubeConfig.identity : undefined;
  }

  /** A typed client (CoreV1Api, CoordinationV1Api, ...) on the counted transport. */
  makeApiClient<T>(apiClientType: new (config: Configuration) => T): T {
    return new apiClientType(this.configuration);
  }

  /** Sends a raw JSON request; resolves to the parsed body, throws KubeApiError on non-2xx. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const ctx = this.configuration.baseServer.makeRequestContext(req.path, req.method as never);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam('Accept', 'application/json');
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    }
    if (req.signal) ctx.setSignal(req.signal);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const resp = await this.configuration.httpApi.send(ctx).toPromise();
    const text = await resp.body.text();
    if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) {
      throw kubeApiErrorFrom(resp.httpStatusCode, text, `${req.method} ${req.path}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Discovery for a kind (cached per apiVersion; refreshed once when the kind is missing, e.g. a new CRD). */
  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const { group, version } = splitApiVersion(apiVersion);
    for (let attempt = 0; attempt < 2; attempt++) {
      let doc = this.discovery.get(apiVersion);
      if (!doc || attempt > 0) {
        doc = this.request<DiscoveryList>({ method: 'GET', path: apiVersionPath(apiVersion) });
        this.discovery.set(apiVersion, doc);
        doc.catch(() => this.discovery.delete(apiVersion));
      }
      const found = (await doc).resources?.find((r) => r.kind === kind && !r.name.includes('/'));
      if (found) return { group, version, kind, plural: found.name, namespaced: found.namespaced };
    }
    throw kubeApiErrorFrom(404, `kind ${kind} not found in ${apiVersion}`, 'discovery');
  }

  /** The URL path of an object, a collection (no name) or a subresource. */
  async resourcePath(ref: ObjectRef, subresource?: string): Promise<string> {
    const info = await this.resourceFor(ref.apiVersion, ref.kind);
    let path = apiVersionPath(ref.apiVersion);
    if (info.namespaced && ref.namespace) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    path += `/${info.plural}`;
    if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  /** Reads one object as raw JSON; undefined when it does not exist. */
  async get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef & { name: string }): Promise<T | undefined> {
    try {
      return await this.request<T>({ method: 'GET', path: await this.resourcePath(ref) });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists objects as raw JSON (one page unless `limit` is unset). */
  async list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    opts: ListOptions = {},
  ): Promise<KubernetesListObject<T>> {
    const { namespace, ...query } = opts;
    const path = await this.resourcePath(namespace ? { apiVersion, kind, namespace } : { apiVersion, kind });
    const list = await this.request<KubernetesListObject<T>>({ method: 'GET', path, query: { ...query } });
    // Items of a list carry no apiVersion/kind; restore them so cached objects look like watch events.
    for (const item of list.items) {
      item.apiVersion ??= apiVersion;
      item.kind ??= kind;
    }
    return list;
  }

  /** Deletes an object; false when it was already gone. */
  async delete(ref: ObjectRef & { name: string }, opts: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {}): Promise<boolean> {
    try {
      await this.request({
        method: 'DELETE',
        path: await this.resourcePath(ref),
        ...(opts.propagationPolicy ? { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts.propagationPolicy } } : {}),
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
