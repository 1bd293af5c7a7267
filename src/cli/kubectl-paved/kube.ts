/**
 * The plugin's only I/O with the API server, with the user's own kubeconfig (`--kubeconfig`,
 * `KUBECONFIG`, `--context`) and nothing of its own for auth: reads of Teams, WebServices and the
 * objects of a service's tree, the rollout-action annotation write (the same value the API's controls
 * write, src/server/controls.ts), and API errors mapped to CliError with the API server's message.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { PAVED_GROUP, PAVED_VERSION, type Team } from '../../api/index.js';
import { canaryName } from '../../delivery/observe.js';
import { controlAnnotation, type ControlAction } from '../../delivery/controls.js';
import type { WebService } from '../../webservice/render/index.js';
import { CliError, ExitCode, exitCodeOfStatus } from './exit-codes.js';
import type { ServiceView } from './render/service-tree.js';

export interface KubeFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

/** The user's kubeconfig, as kubectl would load it. */
export function loadKubeConfig(flags: KubeFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new CliError(`cannot load kubeconfig${flags.kubeconfig ? ` ${flags.kubeconfig}` : ''}: ${(err as Error).message}`, ExitCode.Usage, { cause: err });
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) throw new CliError(`--context: no context named "${flags.context}" in the kubeconfig`, ExitCode.Usage);
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new CliError('no current cluster in the kubeconfig (set --context or --kubeconfig)', ExitCode.Usage);
  return kc;
}

/** The namespace to use: -n, else the context's, else `default`. */
export function namespaceOf(kc: KubeConfig, flags: KubeFlags): string {
  return flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

interface ApiErrorLike {
  code?: number;
  body?: unknown;
  message?: string;
}

/** An API exception as a CliError carrying the API server's own message (RBAC refusals verbatim). */
export function toCliError(err: unknown, what: string): CliError {
  if (err instanceof CliError) return err;
  const e = err as ApiErrorLike;
  let message: string | undefined;
  const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') message = (body as { message: string }).message;
  const status = typeof e.code === 'number' ? e.code : undefined;
  if (status === undefined) return new CliError(`${what}: cannot reach the API server: ${e.message ?? String(err)}`, ExitCode.Unavailable, { cause: err });
  return new CliError(`Error from server${reasonOf(status)}: ${message ?? e.message ?? `HTTP ${status}`}`, exitCodeOfStatus(status), { cause: err });
}

function reasonOf(status: number): string {
  return status === 403 ? ' (Forbidden)' : status === 404 ? ' (NotFound)' : status === 401 ? ' (Unauthorized)' : '';
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Typed access to what the plugin reads and writes. */
export class PavedKube {
  readonly custom: CustomObjectsApi;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  constructor(readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async listTeams(): Promise<Team[]> {
    try {
      const list = (await this.custom.listClusterCustomObject({ group: PAVED_GROUP, version: PAVED_VERSION, plural: 'teams' })) as { items: Team[] };
      return list.items;
    } catch (err) {
      throw toCliError(err, 'list teams');
    }
  }

  async getTeam(name: string): Promise<Team> {
    try {
      return (await this.custom.getClusterCustomObject({ group: PAVED_GROUP, version: PAVED_VERSION, plural: 'teams', name })) as Team;
    } catch (err) {
      throw toCliError(err, `get team ${name}`);
    }
  }

  /** WebServices of a namespace, or of every namespace when `namespace` is undefined. */
  async listWebServices(namespace: string | undefined): Promise<WebService[]> {
    try {
      const list = (
        namespace === undefined
          ? await this.custom.listClusterCustomObject({ group: PAVED_GROUP, version: PAVED_VERSION, plural: 'webservices' })
          : await this.custom.listNamespacedCustomObject({ group: PAVED_GROUP, version: PAVED_VERSION, namespace, plural: 'webservices' })
      ) as { items: WebService[] };
      return list.items;
    } catch (err) {
      throw toCliError(err, 'list webservices');
    }
  }

  async getWebService(namespace: string, name: string): Promise<WebService> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: PAVED_GROUP, version: PAVED_VERSION, namespace, plural: 'webservices', name })) as WebService;
    } catch (err) {
      throw toCliError(err, `get webservice ${name}`);
    }
  }

  /** The service tree's objects: the WebService, both Deployments, the namespace's pods and the HTTPRoute. */
  async serviceView(namespace: string, name: string): Promise<ServiceView> {
    const webService = await this.getWebService(namespace, name);
    const [stable, canary, pods, route] = await Promise.all([
      this.optional(() => this.apps.readNamespacedDeployment({ namespace, name })),
      this.optional(() => this.apps.readNamespacedDeployment({ namespace, name: canaryName(name) })),
      this.core.listNamespacedPod({ namespace }).then((l) => l.items, (err) => Promise.reject(toCliError(err, 'list pods'))),
      this.optional(
        () =>
          this.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes', name }) as Promise<KubernetesObject>,
      ),
    ]);
    return { webService, pods: pods, ...(stable ? { stable: stable } : {}), ...(canary ? { canary } : {}), ...(route ? { route } : {}) };
  }

  /** A read that may be absent: 404 (or the kind not installed) is undefined, other errors throw. */
  private async optional<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (err) {
      if ((err as ApiErrorLike).code === 404) return undefined;
      throw toCliError(err, 'read');
    }
  }

  /**
   * Sets the rollout-action annotation (a merge patch, as `kubectl annotate --overwrite` does). The
   * API server checks the user's RBAC (`patch` on webservices); a refusal carries its message.
   */
  async requestAction(namespace: string, name: string, action: ControlAction, full: boolean): Promise<string> {
    const annotations = controlAnnotation(action, full);
    try {
      await this.custom.patchNamespacedCustomObject(
        { group: PAVED_GROUP, version: PAVED_VERSION, namespace, plural: 'webservices', name, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      throw toCliError(err, `${action} ${name}`);
    }
    return Object.values(annotations)[0]!;
  }
}
