/** Installs CRD files (the project's own and the third-party ones from ../shared) and waits until established. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { eventually } from './eventually.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The official CRDs of Gateway API, prometheus-operator and Argo CD, read where they are shared (never copied). */
export function thirdPartyCrdFiles(): string[] {
  const candidates = [join(root, '../shared/third-party-crds'), join(root, 'shared/third-party-crds')];
  const dir = candidates.find((d) => existsSync(d));
  if (!dir) throw new Error(`third-party CRDs not found in ${candidates.join(' or ')}`);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
}

/** crds/*.yaml of this project. */
export function projectCrdFiles(): string[] {
  const dir = join(root, 'crds');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
}

/** Parses every CRD document in the given files. */
export function readCrds(files: string[]): V1CustomResourceDefinition[] {
  return files.flatMap((f) =>
    // loadAllYaml gives client-node's model form: its serializer maps model names
    // (xKubernetesIntOrString) back to JSON names and silently drops raw keys such as `x-kubernetes-*`.
    (loadAllYaml(readFileSync(f, 'utf8')) as Array<V1CustomResourceDefinition | null>).filter(
      (d): d is V1CustomResourceDefinition => d?.kind === 'CustomResourceDefinition',
    ),
  );
}

/** Server-side applies the CRDs and waits until each is Established. */
export async function installCrdFiles(kc: KubeConfig, files: string[]): Promise<void> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const crds = readCrds(files);
  const failures: string[] = [];
  await Promise.all(
    crds.map((crd) =>
      objects.patch(crd, undefined, undefined, 'paved-tests', true, PatchStrategy.ServerSideApply).catch((err: unknown) => {
        const body = (err as { body?: unknown }).body;
        const message = typeof body === 'string' ? ((JSON.parse(body) as { message?: string }).message ?? body) : String(err);
        failures.push(`CRD ${crd.metadata?.name}: ${message}`);
      }),
    ),
  );
  if (failures.length > 0) {
    throw new Error(`the API server rejected ${failures.length} CRD(s):\n  ${failures.join('\n  ')}`);
  }
  await Promise.all(
    crds.map((crd) =>
      eventually(async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
        if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
          throw new Error(`CRD ${crd.metadata?.name} not established`);
        }
      }, { timeoutMs: 60_000 }),
    ),
  );
}
