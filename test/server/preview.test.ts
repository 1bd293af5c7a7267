/**
 * Preview through the API with the real WebService renderer and the requests-based cost projection:
 * the objects are the renderer's (what the controller applies for the same spec and context), nothing
 * is written, and the monthly cost follows the requests and replicas.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING } from '../../src/cost/pricing.js';
import { createApp } from '../../src/server/app.js';
import { StreamHub } from '../../src/server/hub.js';
import { rendererPreview, requestsCostProjection } from '../../src/server/preview.js';
import { previewWebService } from '../../src/webservice/preview.js';
import { renderWebService, type RenderContext } from '../../src/webservice/render/index.js';
import { DEFAULT_PLATFORM } from '../../src/webservice/render/context.js';
import { capturingLogger, recordingWriter, roles, world } from './fixtures.js';

const contextFor = (team: string): RenderContext => ({
  capabilities: { gatewayApi: true, prometheusOperator: true },
  platform: DEFAULT_PLATFORM,
  team,
});

function app() {
  const w = world();
  const writer = recordingWriter();
  const api = createApp({
    sources: w.sources,
    hub: new StreamHub(),
    writer,
    auth: { kind: 'local' },
    roles,
    logger: capturingLogger().logger,
    registry: new Registry(),
    preview: rendererPreview((ws, team) => previewWebService(ws, contextFor(team))),
    projectMonthlyCost: requestsCostProjection(DEFAULT_PRICING),
  });
  return { ...api, writer };
}

async function preview(a: ReturnType<typeof app>, body: unknown): Promise<{ status: number; json: any }> {
  const res = await a.app.request('/api/v1/namespaces/team-a/webservices/preview', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('preview', () => {
  it('returns the objects the renderer gives the controller, and a monthly cost, without writing', async () => {
    const a = app();
    const intent = { name: 'shop', image: 'ghcr.io/acme/shop:1.2.3', runtime: 'node', tier: 'medium', scaling: { minReplicas: 3, maxReplicas: 6 }, networking: { visibility: 'public', host: 'shop.example.com' } };
    const res = await preview(a, intent);
    expect(res.status).toBe(200);
    const { name, ...spec } = intent;
    const expected = renderWebService(
      { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name, namespace: 'team-a', labels: { 'paved.dev/team': 'team-a' } }, spec } as never,
      contextFor('team-a'),
    ).objects;
    expect(res.json.rendered).toBe(true);
    expect(res.json.objects).toEqual(JSON.parse(JSON.stringify(expected)));
    const kinds = res.json.objects.map((o: any) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'HorizontalPodAutoscaler', 'HTTPRoute', 'NetworkPolicy']));
    expect(res.json.cost.currency).toBe('USD');
    expect(res.json.cost.monthly).toBeGreaterThan(0);
    const stable = res.json.cost.breakdown.find((b: any) => b.replicas === 3);
    expect(stable).toBeDefined();
    expect(a.writer.writes).toHaveLength(0);
  });

  it('reports policy violations of the rendered objects', async () => {
    const a = app();
    const res = await preview(a, { name: 'shop', image: 'ghcr.io/acme/shop:latest' });
    expect(res.status).toBe(200);
    expect(res.json.violations.length).toBeGreaterThan(0);
    expect(res.json.allowed).toBe(false);
  });

  it('projects cost from requests and replicas', () => {
    const cost = requestsCostProjection({ ...DEFAULT_PRICING, cpuCoreHour: 0.01, memoryGiBHour: 0.001 })(
      [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'x' },
          spec: { template: { spec: { containers: [{ name: 'app', resources: { requests: { cpu: '500m', memory: '1Gi' } } }] } } },
        } as never,
        { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { minReplicas: 2, scaleTargetRef: { kind: 'Deployment', name: 'x' } } } as never,
      ],
      { team: 't', namespace: 'n' },
    ) as { monthly: number };
    // 2 replicas x (0.5 core x 0.01 + 1 GiB x 0.001) x 730 h = 8.76
    expect(cost.monthly).toBeCloseTo(8.76, 2);
  });
});
