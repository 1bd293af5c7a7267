/**
 * Labels and names. Every object carries the `app.kubernetes.io/*` labels and `paved.dev/team` +
 * `paved.dev/service`, which cost attribution, dashboards, selectors and policy rely on.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { WebService } from './spec.js';

export const LABEL_TEAM = 'paved.dev/team';
export const LABEL_SERVICE = 'paved.dev/service';
/** `stable` or `canary` on pods; selects the pods of each track. */
export const LABEL_TRACK = 'paved.dev/track';
/** On Services: `primary` (`<name>`), `stable` or `canary`. */
export const LABEL_ENDPOINT = 'paved.dev/endpoint';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'paved';
/** Pod annotation: hash of the ConfigMap data, so a config change rolls the pods. */
export const ANNOTATION_CONFIG_HASH = 'paved.dev/config-hash';

/** The labels every rendered object must carry (checked by the required-labels policy). */
export const REQUIRED_LABELS = ['app.kubernetes.io/name', LABEL_MANAGED_BY, LABEL_TEAM, LABEL_SERVICE] as const;

export type Track = 'stable' | 'canary';

/** The identity of the WebService being rendered. */
export interface Identity {
  name: string;
  namespace: string;
  team: string;
}

/** Labels on every object of a WebService. */
export function commonLabels(id: Identity): Record<string, string> {
  return {
    'app.kubernetes.io/name': id.name,
    'app.kubernetes.io/instance': id.name,
    'app.kubernetes.io/component': 'web',
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_TEAM]: id.team,
    [LABEL_SERVICE]: id.name,
  };
}

/** The label selector of all pods of a WebService (both tracks). */
export function serviceSelector(id: Identity): Record<string, string> {
  return { [LABEL_SERVICE]: id.name };
}

/** The label selector of one track's pods. */
export function trackSelector(id: Identity, track: Track): Record<string, string> {
  return { [LABEL_SERVICE]: id.name, [LABEL_TRACK]: track };
}

/** The `app.kubernetes.io/version` value of an image: its tag, made a valid label value; undefined for digests only. */
export function imageVersion(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon < 0) return undefined;
  const tag = withoutDigest
    .slice(colon + 1)
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return tag || undefined;
}

/** The controller owner reference to the WebService (only when it has a uid, i.e. it is stored). */
export function ownerReferences(ws: WebService): V1OwnerReference[] | undefined {
  const uid = ws.metadata?.uid;
  const name = ws.metadata?.name;
  if (!uid || !name) return undefined;
  // No blockOwnerDeletion: it needs update rights on webservices/finalizers, which the deployer lacks.
  return [{ apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', name, uid, controller: true }];
}

/** Standard object metadata. */
export function objectMeta(
  id: Identity,
  ws: WebService,
  name: string,
  extraLabels: Record<string, string> = {},
): { name: string; namespace: string; labels: Record<string, string>; ownerReferences?: V1OwnerReference[] } {
  const owners = ownerReferences(ws);
  return {
    name,
    namespace: id.namespace,
    labels: { ...commonLabels(id), ...extraLabels },
    ...(owners ? { ownerReferences: owners } : {}),
  };
}
