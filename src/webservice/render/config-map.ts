/**
 * The ConfigMaps of `spec.config`, read by the pods as environment (`envFrom`): one per revision of the
 * config, named by a hash of its data and immutable. The pod template references its revision's, so a
 * config change rolls the pods through the canary like any other change, pods of the stable track that
 * start meanwhile (or after a rollback) still get the stable revision's config, and older ConfigMaps
 * are pruned once no Deployment references them (`referencedConfigMaps`).
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { configMapName } from './deployment.js';
import { objectMeta, type Identity } from './labels.js';
import type { NormalizedSpec, WebService } from './spec.js';
import { podLocations, type RenderedObject } from './workloads.js';

/** The ConfigMap of the current `spec.config` (the desired revision's). */
export function renderConfigMap(ws: WebService, id: Identity, spec: NormalizedSpec): V1ConfigMap | undefined {
  if (!spec.config) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(id, ws, configMapName(id.name, spec.config)),
    immutable: true,
    data: { ...spec.config },
  };
}

/**
 * Names of the ConfigMaps the pod templates of `objects` read (envFrom, env valueFrom, volumes). Pure.
 * The stable Deployment may keep a template of an older revision, whose ConfigMap the current spec no
 * longer renders: pruning must leave those alone.
 */
export function referencedConfigMaps(objects: readonly RenderedObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    for (const pod of podLocations(o)) addPodConfigMaps(pod.spec, out);
  }
  return out;
}

interface ContainerConfigRefs {
  envFrom?: Array<{ configMapRef?: { name?: string } }>;
  env?: Array<{ valueFrom?: { configMapKeyRef?: { name?: string } } }>;
}

interface PodConfigRefs {
  containers?: ContainerConfigRefs[];
  initContainers?: ContainerConfigRefs[];
  volumes?: Array<{ configMap?: { name?: string } }>;
}

function addPodConfigMaps(spec: PodConfigRefs, out: Set<string>): void {
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) out.add(e.configMapRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) out.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const v of spec.volumes ?? []) if (v.configMap?.name) out.add(v.configMap.name);
}
