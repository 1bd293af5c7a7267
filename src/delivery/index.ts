/**
 * Progressive delivery: canary rollouts of WebServices, gated on analysis.
 * - plan.ts: the pure state machine (`plan`, `desiredWrites`);
 * - spec.ts, scaling.ts, observe.ts: pure helpers (defaults, canary sizing vs the HPA, reading objects);
 * - render-input.ts: the seam the WebService renderer takes (`rolloutRenderInput`);
 * - reconcile.ts: the controller (`createDeliveryController`);
 * - metrics.ts: rollout and DORA metrics; conditions.ts: the rollout as WebService conditions.
 * See docs/delivery.md.
 */
export * from './types.js';
export { plan, desiredWrites, initialState, parseAction, isCanaryReady, isStableReady } from './plan.js';
export { normalizeDelivery, DEFAULT_WEIGHTS, type DeliverySpecInput } from './spec.js';
export { canaryReplicas, replicaShare } from './scaling.js';
export { REVISION_ANNOTATION, readRolloutState, routeCanaryWeight, trafficModeOf } from './observe.js';
export { rolloutRenderInput, type DeliveryCaches } from './render-input.js';
export { createDeliveryController, TemplateSource, type DeliveryController, type DeliveryControllerOptions } from './reconcile.js';
export { deliveryMetrics, recordRollout, recordQuery } from './metrics.js';
export { rolloutConditions } from './conditions.js';
