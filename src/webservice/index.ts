/**
 * The WebService golden path: one small spec becomes a hardened production service.
 * - render/: the pure renderer (`renderWebService`, `renderPodTemplate`: the delivery seam);
 * - policy/: the platform rules (`evaluatePolicies`) and their admission-policy form;
 * - preview.ts: what a spec will create (for the API);
 * - reconcile.ts: the controller (`createWebServiceController`).
 * See docs/webservice.md.
 */
export {
  renderWebService,
  renderPodTemplate,
  renderDesiredPodTemplate,
  identityOf,
  podTemplateRevision,
  serviceNames,
  normalizeSpec,
  tierOf,
  DEFAULT_PLATFORM,
  platformFromConfig,
  parsePolicyModes,
  type RenderResult,
  type RenderedObject,
  type Capabilities,
  type PlatformConfig,
  type RenderContext,
  type RolloutRenderInput,
  type ServiceRef,
  type GoldenPathTier,
  type WebService,
  type WebServiceSpec,
} from './render/index.js';
export { STEADY_WEIGHTS } from './render/route.js';
export { evaluatePolicies, formatViolations, modeOf, type PolicyResult } from './policy/evaluate.js';
export { POLICY_RULES } from './policy/rules.js';
export type { PolicyMode, PolicyRule, Violation } from './policy/types.js';
export { renderAdmissionPolicies } from './policy/admission.js';
export { previewWebService, type Preview } from './preview.js';
export {
  createWebServiceController,
  detectCapabilities,
  DEPLOYER_SERVICE_ACCOUNT,
  type WebServiceController,
  type WebServiceControllerOptions,
} from './reconcile.js';
export { assessStatus, objectReadiness, planPrune, WebServiceConditions, type WebServiceStatus } from './status.js';
export { webServiceMetrics, countByTier } from './metrics.js';
