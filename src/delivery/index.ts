/**
 * Progressive delivery: canary rollouts of WebServices, gated on analysis.
 * - plan.ts: the pure state machine (`plan`, `desiredWrites`);
 * - spec.ts, scaling.ts, observe.ts: pure helpers (defaults, canary sizing vs the HPA, reading objects);
 * - render-input.ts: the rollout's part of a render (`renderInputFor`, `rolloutRenderInput`);
 * - metrics.ts: rollout and DORA metrics; conditions.ts: the rollout as WebService conditions.
 * A library, not a controller: no informers, queue or status writer. The WebService reconcile
 * (src/webservice/reconcile.ts, its rollout step in src/webservice/rollout-step.ts) observes, measures,
 * calls `plan`, renders with the decision and writes `status.rollout` with the rest of the status.
 * See docs/delivery.md.
 */
export * from './types.js';
export { plan, desiredWrites, initialState, parseAction, isCanaryReady, isStableReady } from './plan.js';
export { normalizeDelivery, DEFAULT_WEIGHTS, type DeliverySpecInput } from './spec.js';
export { canaryReplicas, replicaShare } from './scaling.js';
export { REVISION_ANNOTATION, readRolloutState, routeCanaryWeight, trafficModeOf } from './observe.js';
export { renderInputFor, rolloutRenderInput, observeFromCaches, type DeliveryCaches } from './render-input.js';
export { deliveryMetrics, recordRollout, recordQuery } from './metrics.js';
export { rolloutConditions } from './conditions.js';
export { CONTROL_ACTIONS, controlAnnotation, type ControlAction } from './controls.js';
