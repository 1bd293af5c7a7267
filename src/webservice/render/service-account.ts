/** The pods' own ServiceAccount: no token mounted unless the configured tier asks for one. */
import type { V1ServiceAccount } from '@kubernetes/client-node';
import { objectMeta, type Identity } from './labels.js';
import type { NormalizedSpec, WebService } from './spec.js';

export function renderServiceAccount(ws: WebService, id: Identity, spec: NormalizedSpec): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: objectMeta(id, ws, id.name),
    automountServiceAccountToken: spec.overrides?.serviceAccountToken === true,
  };
}
