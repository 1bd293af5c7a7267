/**
 * Preview: exactly what a WebService spec will create, before anything is applied. The API calls this
 * with the same render context the controller uses (capabilities, platform, team), so the objects are the
 * ones the controller then applies, and the policy result says whether it would apply them at all.
 */
import { InvalidSpecError } from '../errors.js';
import { evaluatePolicies, type PolicyResult } from './policy/evaluate.js';
import type { PolicyContext } from './policy/types.js';
import { renderWebService, type RenderContext, type RenderResult, type WebService } from './render/index.js';

export interface Preview extends RenderResult {
  policy: PolicyResult;
}

/**
 * Renders and checks a WebService (pure). Throws InvalidSpecError (with the field) when the spec cannot
 * be rendered; a spec that renders but breaks an enforced policy returns `policy.allowed === false`.
 * `policyContext` defaults to the namespace and registries alone; the controller passes its full one
 * (host claims, foreign owners) so the preview refuses what it would refuse.
 */
export function previewWebService(ws: WebService, ctx: RenderContext, policyContext?: PolicyContext): Preview {
  if (!ws.spec || typeof ws.spec.image !== 'string') throw new InvalidSpecError('spec.image', 'is required');
  const rendered = renderWebService(ws, ctx);
  const policy = evaluatePolicies(
    rendered.objects,
    policyContext ?? { namespace: ws.metadata?.namespace ?? '', allowedRegistries: ctx.platform.allowedRegistries },
    ctx.platform.policyModes,
  );
  return { ...rendered, policy };
}
