/**
 * Installs CustomResourceDefinitions (paved's crds/, or the third-party ones tests need) with
 * server-side apply and waits until each is Established.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { SetupError, describeError } from '../errors.js';
import { toKubeApiError } from '../kube/api-errors.js';

/** The project's crds/ folder. */
export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

/** Every `*.yaml` file of a folder, sorted. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
}

/** Parses every CRD document in the given files, in client-node's model form. */
export function readCrds(files: string[]): V1CustomResourceDefinition[] {
  // loadAllYaml gives client-node's model form: its serializer maps model names
  // (xKubernetesIntOrString) back to JSON names and silently drops raw keys such as `x-kubernetes-*`.
  return files.flatMap((f) =>
    (loadAllYaml(readFileSync(f, 'utf8')) as Array<V1CustomResourceDefinition | null>).filter(
      (d): d is V1CustomResourceDefinition => d?.kind === 'CustomResourceDefinition',
    ),
  );
}

/** Server-side applies the CRDs of `files` and waits (up to `timeoutMs`) until each is Established. */
export async function installCrds(kc: KubeConfig, files: string[], fieldManager = 'paved', timeoutMs = 60_000): Promise<string[]> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const crds = readCrds(files);
  const failures: string[] = [];
  await Promise.all(
    crds.map((crd) =>
      objects.patch(crd, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply).catch((err: unknown) => {
        failures.push(`CRD ${crd.metadata?.name}: ${toKubeApiError(err)?.message ?? describeError(err)}`);
      }),
    ),
  );
  if (failures.length > 0) {
    throw new SetupError(`the API server rejected ${failures.length} CRD(s):\n  ${failures.join('\n  ')}`, 'fix the CRD schema named above');
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const got = await ext.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new SetupError(`CRD ${name} was not Established within ${timeoutMs} ms`, 'check the API server log');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return crds.map((c) => c.metadata?.name ?? '');
}
