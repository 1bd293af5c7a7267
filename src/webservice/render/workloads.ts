/**
 * Where pods hide in workload objects. Policy checks every pod spec, and extra manifests get the
 * attribution labels on their pod templates, whatever the kind.
 */

/** A rendered (or escape-hatch) object, as plain JSON. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A pod template (or a Pod) inside an object, with its JSON path. */
export interface PodLocation {
  /** Path of the pod spec, e.g. `spec.template.spec`. */
  path: string;
  /** Path of the metadata that carries the pod's labels. */
  metadataPath: string;
  spec: Record<string, unknown>;
  metadata: Record<string, unknown> | undefined;
}

function at(obj: unknown, path: string): unknown {
  let node = obj;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const TEMPLATE_PATHS: Readonly<Record<string, string>> = {
  Pod: '',
  Deployment: 'spec.template',
  ReplicaSet: 'spec.template',
  StatefulSet: 'spec.template',
  DaemonSet: 'spec.template',
  Job: 'spec.template',
  ReplicationController: 'spec.template',
  CronJob: 'spec.jobTemplate.spec.template',
};

/** The pod specs of an object (none for kinds that do not run pods). */
export function podLocations(obj: { kind?: string }): PodLocation[] {
  const base = obj.kind !== undefined ? TEMPLATE_PATHS[obj.kind] : undefined;
  if (base === undefined) return [];
  const prefix = base ? `${base}.` : '';
  const spec = base ? at(obj, `${base}.spec`) : at(obj, 'spec');
  if (!spec || typeof spec !== 'object') return [];
  const metadata = base ? at(obj, `${base}.metadata`) : at(obj, 'metadata');
  return [
    {
      path: `${prefix}spec`,
      metadataPath: `${prefix}metadata`,
      spec: spec as Record<string, unknown>,
      metadata: metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : undefined,
    },
  ];
}

/** `Kind/name` of an object, for messages. */
export function describeObject(obj: { kind?: string; metadata?: { name?: string } }): string {
  return `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
}
