/**
 * Asking Kubernetes whether someone may do something, without acting as them: a SubjectAccessReview
 * (authorization.k8s.io/v1) evaluated by the cluster's own authorizers (RBAC, webhooks) for exactly the
 * user and groups given. A refusal is worded as the API server words its own 403, so a person reads
 * the same sentence whether they were refused through paved or by kubectl.
 */
import type { V1SubjectAccessReview } from '@kubernetes/client-node';
import { KubeApiError } from './api-errors.js';
import type { KubeClients } from './client.js';
import { normalizeIdentity, type Identity } from './identity.js';

/** One resource request as the API server's authorizer sees it. */
export interface ResourceRequest {
  readonly verb: string;
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version?: string;
  /** Plural resource name, e.g. `webservices`. */
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  /** Empty for a collection (and for create: the API server authorizes it before reading the body). */
  readonly name?: string;
}

/** The authorizers' answer. `reason` and `evaluationError` are '' when the review gave none. */
export interface AccessDecision {
  readonly allowed: boolean;
  readonly reason: string;
  readonly evaluationError: string;
}

/**
 * What the API server adds to every authenticated user (and to an impersonated one): a review must
 * see the same groups as the request it stands for.
 */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** Asks the API server (as `clients`, which need `create` on subjectaccessreviews) whether `identity` may do `request`. */
export async function reviewAccess(clients: KubeClients, identity: Identity, request: ResourceRequest): Promise<AccessDecision> {
  const { user, groups } = normalizeIdentity(identity);
  const review = await clients.request<V1SubjectAccessReview>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user,
        groups,
        resourceAttributes: {
          verb: request.verb,
          group: request.group,
          ...(request.version ? { version: request.version } : {}),
          resource: request.resource,
          ...(request.subresource ? { subresource: request.subresource } : {}),
          ...(request.namespace ? { namespace: request.namespace } : {}),
          ...(request.name ? { name: request.name } : {}),
        },
      },
    },
  });
  const status = review.status;
  return { allowed: status?.allowed === true && status.denied !== true, reason: status?.reason ?? '', evaluationError: status?.evaluationError ?? '' };
}

/**
 * The API server's own 403 message for `user` and `request` (k8s.io/apiserver `forbiddenMessage` inside
 * `errors.NewForbidden`), with the review's reason and evaluation error when it gave them:
 * `webservices.paved.dev "shop" is forbidden: User "bob" cannot patch resource "webservices" in API group
 * "paved.dev" in the namespace "team-a"`.
 */
export function forbiddenMessage(user: string, request: ResourceRequest, decision?: Pick<AccessDecision, 'reason' | 'evaluationError'>): string {
  const qualified = request.group ? `${request.resource}.${request.group}` : request.resource;
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const scope = request.namespace ? `in the namespace ${JSON.stringify(request.namespace)}` : 'at the cluster scope';
  let message =
    `${qualified}${request.name ? ` ${JSON.stringify(request.name)}` : ''} is forbidden: ` +
    `User ${JSON.stringify(user)} cannot ${request.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(request.group)} ${scope}`;
  if (decision?.reason) message += `: ${decision.reason}`;
  if (decision?.evaluationError) message += ` (evaluation error: ${decision.evaluationError})`;
  return message;
}

/** The refusal as the KubeApiError a 403 of the API server would be (so callers map it the same way). */
export function forbiddenError(user: string, request: ResourceRequest, decision: AccessDecision): KubeApiError {
  const message = forbiddenMessage(user, request, decision);
  return new KubeApiError(403, 'Forbidden', message, { kind: request.resource, name: request.name, group: request.group }, { statusMessage: message });
}
