/**
 * Property: for any valid spec (per the CRD), the renderer does not throw, is deterministic, and every
 * object it renders passes every policy. (The integration test adds: the API server accepts each object.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePolicies, renderWebService } from '../../src/webservice/index.js';
import { contextFor, specArb, webService } from './fixtures.js';

describe('renderer properties', () => {
  it('never throws, is deterministic and policy-clean for random valid specs', () => {
    fc.assert(
      fc.property(specArb, fc.boolean(), fc.boolean(), (spec, gatewayApi, prometheusOperator) => {
        const ws = webService('svc', 'team-a', spec);
        const ctx = contextFor({ gatewayApi, prometheusOperator });
        const a = renderWebService(ws, ctx);
        const b = renderWebService(structuredClone(ws), ctx);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
        const policy = evaluatePolicies(a.objects, { namespace: 'team-a', allowedRegistries: ['ghcr.io', 'registry.example.com', 'localhost:5000'] });
        expect(policy.violations).toEqual([]);
        const deployment = a.objects.find((o) => o.kind === 'Deployment') as any;
        const hpa = a.objects.some((o) => o.kind === 'HorizontalPodAutoscaler');
        expect(deployment.spec.replicas === undefined).toBe(hpa);
        expect(a.objects.some((o) => o.kind === 'HTTPRoute' || o.kind === 'Ingress')).toBe(spec.networking?.visibility === 'public');
      }),
      { numRuns: 300 },
    );
  });
});
