/**
 * The shipped manifests of deploy/ as the tests use them, and the controller's identity built from them
 * in the shared test cluster: the `paved` ServiceAccount with exactly the RBAC of deploy/paved, a token
 * from the TokenRequest API and a kubeconfig carrying it.
 *
 * So that tests can run side by side in one cluster, the only changes made to the shipped objects are
 * names and namespaces: ClusterRoles and ClusterRoleBindings get a per-run suffix, namespaced objects
 * of paved-system (the leader-election Role and RoleBinding) go to the test's namespace, and the
 * subjects name the test's ServiceAccounts. Rules are applied exactly as shipped.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { KubeClients, serviceAccountUser, toKubeApiError } from '../../src/kube/index.js';
import { eventually } from '../support/eventually.js';

export const PAVED_DIR = fileURLToPath(new URL('../../deploy/paved/', import.meta.url));
export const ADMISSION_DIR = fileURLToPath(new URL('../../deploy/admission/', import.meta.url));
/** The namespace the shipped manifests install into. */
export const INSTALL_NAMESPACE = 'paved-system';
/** The shipped ServiceAccount. */
export const SERVICE_ACCOUNT = 'paved';

export type Doc = Record<string, any>;

/** One manifest document and the file it came from. */
export interface Manifest {
  file: string;
  doc: Doc;
}

/** Every document of every `*.yaml`/`*.yml`/`*.json` file of a folder, in the order `kubectl apply -f <dir>` reads them. */
export function loadManifests(dir: string): Manifest[] {
  return readdirSync(dir)
    // kustomization.yaml lists the files for `kubectl apply -k`; it is not an object.
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !/^kustomization\.ya?ml$/.test(f))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((d) => {
          if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
          return d.toJS() as Doc | null;
        })
        .filter((doc): doc is Doc => !!doc)
        .map((doc) => ({ file, doc })),
    );
}

/** The shipped documents of one kind (deploy/paved). */
export function shipped(kind: string): Doc[] {
  return loadManifests(PAVED_DIR)
    .map((m) => m.doc)
    .filter((d) => d.kind === kind);
}

/** Server-side applies one object as `clients` (field manager paved-tests), optionally as a dry run. */
export async function applyDoc(clients: KubeClients, doc: Doc, opts: { dryRun?: boolean } = {}): Promise<Doc> {
  const path = await clients.resourcePath({
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    name: doc.metadata.name,
    ...(doc.metadata.namespace ? { namespace: doc.metadata.namespace } : {}),
  });
  return clients.request<Doc>({
    method: 'PATCH',
    path,
    query: { fieldManager: 'paved-tests', force: true, ...(opts.dryRun ? { dryRun: 'All' } : {}) },
    body: doc,
    contentType: 'application/apply-patch+yaml',
  });
}

/** The controller's identity in the test cluster. */
export interface ControllerIdentity {
  serviceAccount: string;
  namespace: string;
  /** system:serviceaccount:<namespace>:<serviceAccount>, as the audit log records it. */
  username: string;
  /** A kubeconfig with a TokenRequest token of the ServiceAccount. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  clients: KubeClients;
}

/** What installControllerIdentities made; `remove()` deletes the cluster-scoped objects and the kubeconfigs. */
export interface InstalledIdentities {
  identities: ControllerIdentity[];
  /** Names of the cluster-scoped objects made for this run (ClusterRoles and their bindings). */
  clusterRoles: string[];
  remove(): Promise<void>;
}

/**
 * Installs deploy/paved's RBAC for ServiceAccounts of `namespace` (which plays paved-system: the lease
 * lives there too) and returns a kubeconfig per ServiceAccount. `roles` picks the shipped ClusterRoles
 * to bind (default all of them).
 */
export async function installControllerIdentities(
  admin: KubeClients,
  opts: { namespace: string; suffix: string; serviceAccounts?: string[]; roles?: string[] },
): Promise<InstalledIdentities> {
  const accounts = opts.serviceAccounts ?? [SERVICE_ACCOUNT];
  const subjects = accounts.map((name) => ({ kind: 'ServiceAccount', name, namespace: opts.namespace }));
  const picked = (name: string) => !opts.roles || opts.roles.includes(name);
  const rename = (name: string) => `${name}-${opts.suffix}`;
  const toNamespace = (doc: Doc): Doc => ({ ...doc, metadata: { ...doc.metadata, namespace: opts.namespace } });

  const sa = shipped('ServiceAccount').find((d) => d.metadata.name === SERVICE_ACCOUNT);
  if (!sa) throw new Error(`deploy/paved ships no ServiceAccount ${SERVICE_ACCOUNT}`);
  const docs: Doc[] = accounts.map((name) => ({ ...toNamespace(sa), metadata: { ...toNamespace(sa).metadata, name } }));
  const clusterScoped: Doc[] = [];
  for (const role of shipped('ClusterRole').filter((d) => picked(d.metadata.name))) {
    clusterScoped.push({ ...role, metadata: { ...role.metadata, name: rename(role.metadata.name) } });
  }
  for (const binding of shipped('ClusterRoleBinding').filter((d) => picked(d.roleRef.name))) {
    clusterScoped.push({
      ...binding,
      metadata: { ...binding.metadata, name: rename(binding.metadata.name) },
      roleRef: { ...binding.roleRef, name: rename(binding.roleRef.name) },
      subjects,
    });
  }
  for (const role of shipped('Role')) docs.push(toNamespace(role));
  for (const binding of shipped('RoleBinding')) docs.push({ ...toNamespace(binding), subjects });

  const dir = mkdtempSync(join(tmpdir(), 'paved-identity-'));
  const remove = async () => {
    await Promise.all(
      clusterScoped.map((d) => admin.delete({ apiVersion: d.apiVersion, kind: d.kind, name: d.metadata.name }).catch(() => false)),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const doc of [...docs, ...clusterScoped]) await applyDoc(admin, doc);
    const adminKc = admin.kubeConfig;
    const cluster = adminKc.getCurrentCluster();
    if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
    const identities: ControllerIdentity[] = [];
    for (const name of accounts) {
      const review = await admin.request<Doc>({
        method: 'POST',
        path: `/api/v1/namespaces/${opts.namespace}/serviceaccounts/${name}/token`,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      });
      const token = review.status?.token as string | undefined;
      if (!token) throw new Error(`TokenRequest for ${opts.namespace}/${name} returned no token`);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ ...cluster, name: 'test' }],
        users: [{ name, token }],
        contexts: [{ name, cluster: 'test', user: name }],
        currentContext: name,
      });
      const kubeconfigPath = join(dir, `${name}.kubeconfig`);
      writeFileSync(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
      identities.push({
        serviceAccount: name,
        namespace: opts.namespace,
        username: serviceAccountUser(opts.namespace, name),
        kubeconfigPath,
        kubeConfig: kc,
        clients: KubeClients.fromKubeConfig(kc),
      });
    }
    // RBAC reaches the authorizer's cache shortly after the write: wait until the identity can do what
    // main.ts does first (read a paved CRD), so that the process does not start before its rights.
    if (picked('paved-controller')) {
      for (const id of identities) {
        await eventually(async () => {
          await id.clients.request({ method: 'GET', path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/teams.paved.dev' });
        }, { timeoutMs: 30_000 });
      }
    }
    return { identities, clusterRoles: clusterScoped.filter((d) => d.kind === 'ClusterRole').map((d) => d.metadata.name), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** The HTTP status of a request (200..299 -> the status the server gave, or 200). */
export async function statusOf(p: Promise<unknown>): Promise<number> {
  return p.then(
    () => 200,
    (err: unknown) => toKubeApiError(err)?.statusCode ?? -1,
  );
}
