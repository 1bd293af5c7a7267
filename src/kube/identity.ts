/**
 * Identity: acting as another user (and any number of groups) towards the API server, for every kind
 * of client paved uses: typed clients (`makeApiClient(CoreV1Api)`), the generic object client
 * (KubernetesObjectApi, KubeClients' raw requests) and watches (client-node's Watch, hence informers).
 *
 * Kubernetes reads impersonation from headers: one `Impersonate-User` and one `Impersonate-Group` header
 * PER group (a comma-joined value is read as one group named "a,b"). client-node gives two public hooks:
 * - the kubeconfig user's `impersonateUser` (kubeconfig `as:`), which client-node itself turns into
 *   `Impersonate-User` on typed clients and watches alike;
 * - for groups, which client-node's request context cannot repeat (its headers are a plain object,
 *   one value per name): the generated clients' `httpApi` (an `HttpLibrary`, part of the public
 *   `createConfiguration` options) sends through node-fetch with a `Headers` object that carries one
 *   `Impersonate-Group` per group; and `applyToFetchOptions` (public, what Watch calls) returns a
 *   `Headers` object the override appends the groups to.
 * No private fields are touched and no header object is patched.
 *
 * One bounded cache (`IdentityCache`, on lru-cache) holds what is built per identity; KubeClients keeps
 * its impersonating copies there, and everything else impersonates through KubeClients.
 */
import {
  KubeConfig,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type HttpLibrary,
  type RequestContext,
  type User,
} from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import fetch, { Headers } from 'node-fetch';

/** Who a request is made as. For a ServiceAccount username the API server adds its groups itself. */
export interface Identity {
  readonly user: string;
  /** Groups to impersonate (each sent as its own `Impersonate-Group` header). */
  readonly groups?: readonly string[];
}

/** The Kubernetes username of a ServiceAccount: `system:serviceaccount:NS:NAME`. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * The identity in canonical form (groups de-duplicated and sorted); throws on an empty user or group,
 * naming the field, because the API server would read an empty header as "no impersonation".
 */
export function normalizeIdentity(identity: Identity | string): Required<Identity> {
  const id = typeof identity === 'string' ? { user: identity } : identity;
  if (typeof id.user !== 'string' || id.user.trim() === '') throw new TypeError('identity.user: must be a non-empty string');
  const groups = [...new Set(id.groups ?? [])];
  groups.forEach((g, i) => {
    if (typeof g !== 'string' || g.trim() === '') throw new TypeError(`identity.groups[${i}]: must be a non-empty string`);
  });
  return { user: id.user, groups: groups.sort() };
}

/** A stable cache key for an identity (same user and same set of groups: same key). */
export function identityKey(identity: Identity | string): string {
  const { user, groups } = normalizeIdentity(identity);
  return JSON.stringify([user, groups]);
}

/** The headers that impersonate `identity`, as name/value pairs (one pair per group). */
export function impersonationHeaders(identity: Identity | string): Array<[string, string]> {
  const { user, groups } = normalizeIdentity(identity);
  return [['Impersonate-User', user], ...groups.map((g): [string, string] => ['Impersonate-Group', g])];
}

const IMPERSONATE_HEADER = /^impersonate-/i;

/** Replaces every impersonation header in `headers` with those of `identity`. */
function setImpersonation(headers: Headers, identity: Identity): void {
  for (const name of [...headers.keys()]) if (IMPERSONATE_HEADER.test(name)) headers.delete(name);
  for (const [name, value] of impersonationHeaders(identity)) headers.append(name, value);
}

/**
 * The transport of client-node's generated clients (what `createConfiguration()` uses by default: node-fetch),
 * with the impersonation headers of `identity` on every request when given.
 */
export function kubeHttpLibrary(identity?: Identity): HttpLibrary {
  if (!identity) return createConfiguration().httpApi;
  return wrapHttpLibrary({
    async send(ctx: RequestContext): Promise<ResponseContext> {
      const headers = new Headers();
      for (const [name, value] of Object.entries(ctx.getHeaders())) headers.set(name, value);
      setImpersonation(headers, identity);
      const resp = await fetch(ctx.getUrl(), {
        method: ctx.getHttpMethod().toString(),
        body: ctx.getBody() as string | undefined,
        headers,
        signal: ctx.getSignal() as never,
        agent: ctx.getAgent(),
      });
      const respHeaders: Record<string, string> = {};
      resp.headers.forEach((value, name) => (respHeaders[name] = value));
      return new ResponseContext(resp.status, respHeaders, { text: () => resp.text(), binary: () => resp.buffer() });
    },
  });
}

/** The transport for a kubeconfig: impersonating when it is an ImpersonatingKubeConfig. */
export function httpLibraryFor(kc: KubeConfig): HttpLibrary {
  return kubeHttpLibrary(kc instanceof ImpersonatingKubeConfig ? kc.identity : undefined);
}

/**
 * A copy of a kubeconfig that acts as `identity` with the original's credentials (the credentials must
 * be allowed to `impersonate` users and groups). Use it wherever a KubeConfig goes: `makeApiClient`,
 * `KubernetesObjectApi.makeApiClient`, `new Watch(kc)`, `KubeClients.fromKubeConfig`. The base is not changed.
 */
export class ImpersonatingKubeConfig extends KubeConfig {
  readonly identity: Required<Identity>;

  constructor(base: KubeConfig, identity: Identity | string) {
    super();
    this.identity = normalizeIdentity(identity);
    const current = base.getCurrentUser();
    if (!current) throw new Error('kubeconfig has no current user to impersonate from');
    this.loadFromOptions({
      clusters: base.clusters,
      contexts: base.contexts,
      currentContext: base.getCurrentContext(),
      users: base.users.map((u): User => (u.name === current.name ? { ...u, impersonateUser: this.identity.user } : u)),
    });
  }

  /** Typed clients whose transport carries the groups too. */
  override makeApiClient<T>(apiClientType: new (config: Configuration) => T): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    return new apiClientType(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: this },
        httpApi: httpLibraryFor(this),
      }),
    );
  }

  /** What Watch sends: the original credentials plus this identity's headers. */
  override async applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]): ReturnType<KubeConfig['applyToFetchOptions']> {
    const init = await super.applyToFetchOptions(opts);
    setImpersonation(init.headers as unknown as Headers, this.identity);
    return init;
  }
}

/** A copy of `kc` acting as `identity` (see ImpersonatingKubeConfig). */
export function impersonatingKubeConfig(kc: KubeConfig, identity: Identity | string): ImpersonatingKubeConfig {
  return new ImpersonatingKubeConfig(kc, identity);
}

/** Options of an IdentityCache. */
export interface IdentityCacheOptions {
  /** Most identities kept; the least recently used is evicted beyond. */
  max: number;
}

/**
 * The one bounded cache of per-identity objects (client bundles). Keyed by `identityKey`, so the same
 * user with the same groups in another order shares an entry.
 */
export class IdentityCache<T extends object> {
  private readonly lru: LRUCache<string, T>;

  constructor(opts: IdentityCacheOptions) {
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new RangeError(`max: must be a positive integer, got ${String(opts.max)}`);
    this.lru = new LRUCache<string, T>({ max: opts.max });
  }

  /** The cached value for `identity`, built with `create` on a miss. */
  get(identity: Identity | string, create: (identity: Required<Identity>) => T): T {
    const key = identityKey(identity);
    let value = this.lru.get(key);
    if (!value) {
      value = create(normalizeIdentity(identity));
      this.lru.set(key, value);
    }
    return value;
  }

  /** True when `identity` is cached (does not refresh its recency). */
  has(identity: Identity | string): boolean {
    return this.lru.has(identityKey(identity));
  }

  /** Drops the entry of `identity`, if any. */
  delete(identity: Identity | string): void {
    this.lru.delete(identityKey(identity));
  }

  get size(): number {
    return this.lru.size;
  }

  get max(): number {
    return this.lru.max;
  }
}
