import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  renderPodTemplate,
  renderDesiredPodTemplate,
  renderWebService,
  podTemplateRevision,
  type RenderedObject,
} from '../../src/webservice/index.js';
import { SPEC_DEFAULTS, normalizeSpec, tierOf } from '../../src/webservice/render/spec.js';
import { renderResources } from '../../src/webservice/render/resources.js';
import { imageVersion } from '../../src/webservice/render/labels.js';
import { InvalidSpecError } from '../../src/errors.js';
import { BARE, FULL, contextFor, webService } from './fixtures.js';

const find = (objs: RenderedObject[], kind: string, name?: string) =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const ids = (objs: RenderedObject[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`);

describe('renderWebService', () => {
  const base = webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0', runtime: 'node' });

  it('renders the managed set in apply order', () => {
    const r = renderWebService(base, contextFor(FULL));
    expect(ids(r.objects)).toEqual([
      'ServiceAccount/shop',
      'Deployment/shop',
      'Service/shop',
      'Service/shop-stable',
      'Service/shop-canary',
      'HorizontalPodAutoscaler/shop',
      'PodDisruptionBudget/shop',
      'NetworkPolicy/shop',
      'ServiceMonitor/shop',
      'ConfigMap/shop-dashboard',
    ]);
    expect(r.tier).toBe('managed');
  });

  it('leaves replicas to the HPA, and sets them only without one', () => {
    const withHpa = renderWebService(base, contextFor(FULL));
    expect((find(withHpa.objects, 'Deployment') as any).spec.replicas).toBeUndefined();
    const fixed = renderWebService(webService('shop', 'team-a', { ...base.spec, scaling: { minReplicas: 3, maxReplicas: 3 } }), contextFor(FULL));
    expect((find(fixed.objects, 'Deployment') as any).spec.replicas).toBe(3);
    expect(find(fixed.objects, 'HorizontalPodAutoscaler')).toBeUndefined();
  });

  it('hardens every pod', () => {
    const d = find(renderWebService(base, contextFor(FULL)).objects, 'Deployment') as any;
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
    expect(c.resources.limits).toEqual({ cpu: '500m', memory: '256Mi' });
    expect(pod.topologySpreadConstraints.map((t: any) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(d.spec.template.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'shop',
      'app.kubernetes.io/managed-by': 'paved',
      'paved.dev/team': 'team-a',
      'paved.dev/service': 'shop',
      'paved.dev/track': 'stable',
    });
  });

  it('routes public services through an HTTPRoute with Gateway API, else an Ingress with TLS', () => {
    const pub = webService('shop', 'team-a', { ...base.spec, networking: { visibility: 'public', host: 'shop.example.com' } });
    const route = find(renderWebService(pub, contextFor(FULL)).objects, 'HTTPRoute') as any;
    expect(route.spec.hostnames).toEqual(['shop.example.com']);
    expect(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['shop-stable', 100], ['shop-canary', 0]]);
    const bare = renderWebService(pub, contextFor(BARE)).objects;
    expect(find(bare, 'HTTPRoute')).toBeUndefined();
    const ing = find(bare, 'Ingress') as any;
    expect(ing.spec.tls).toEqual([{ hosts: ['shop.example.com'], secretName: 'shop-tls' }]);
    expect(ing.spec.rules[0].http.paths[0].backend.service.name).toBe('shop');
    expect(find(renderWebService(base, contextFor(FULL)).objects, 'HTTPRoute')).toBeUndefined();
  });

  it('allows ingress from the gateway, monitoring and dependents, egress to dependencies and DNS', () => {
    const ws = webService('shop', 'team-a', {
      ...base.spec,
      networking: { visibility: 'public', host: 'shop.example.com', dependencies: [{ service: 'db' }, { service: 'pay', namespace: 'team-b' }] },
    });
    const np = find(renderWebService(ws, contextFor(FULL, { dependents: [{ service: 'web', namespace: 'team-z' }] })).objects, 'NetworkPolicy') as any;
    const fromNs = np.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']));
    expect(fromNs).toEqual(['gateway-system', 'monitoring', 'team-z']);
    const to = np.spec.egress.flatMap((r: any) => r.to.map((t: any) => `${t.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}/${t.podSelector?.matchLabels?.['paved.dev/service'] ?? t.podSelector?.matchLabels?.['k8s-app']}`));
    expect(to).toEqual(['kube-system/kube-dns', 'team-a/db', 'team-b/pay']);
    const priv = find(renderWebService(base, contextFor(FULL)).objects, 'NetworkPolicy') as any;
    expect(priv.spec.ingress.some((r: any) => r.from[0].namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === 'gateway-system')).toBe(false);
  });

  it('renders a ConfigMap and OTel env only when asked', () => {
    const ws = webService('shop', 'team-a', { ...base.spec, config: { B: '2', A: '1' }, observability: { tracing: true } });
    const r = renderWebService(ws, contextFor(FULL));
    expect((find(r.objects, 'ConfigMap') as any).data).toEqual({ A: '1', B: '2' });
    const c = (find(r.objects, 'Deployment') as any).spec.template.spec.containers[0];
    const cm = find(r.objects, 'ConfigMap') as any;
    expect(cm.metadata.name).toMatch(/^shop-config-[0-9a-f]{10}$/);
    expect(cm.immutable).toBe(true);
    expect(c.envFrom).toEqual([{ configMapRef: { name: cm.metadata.name } }]);
    // one ConfigMap per revision of the config: new data, new name (and so a new pod-template revision)
    const changed = renderWebService(webService('shop', 'team-a', { ...ws.spec, config: { A: '1', B: '3' } }), contextFor(FULL));
    expect((find(changed.objects, 'ConfigMap') as any).metadata.name).not.toBe(cm.metadata.name);
    expect(changed.revision).not.toBe(r.revision);
    const reordered = renderWebService(webService('shop', 'team-a', { ...ws.spec, config: { A: '1', B: '2' } }), contextFor(FULL));
    expect((find(reordered.objects, 'ConfigMap') as any).metadata.name).toBe(cm.metadata.name);
    expect(c.env.map((e: any) => e.name)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    const plain = renderWebService(base, contextFor(FULL));
    // Only the Grafana dashboard's ConfigMap (test/webservice/dashboard.test.ts).
    expect(ids(plain.objects.filter((o) => o.kind === 'ConfigMap'))).toEqual(['ConfigMap/shop-dashboard']);
    expect((find(plain.objects, 'Deployment') as any).spec.template.spec.containers[0].env.map((e: any) => e.name)).not.toContain('OTEL_SERVICE_NAME');
  });

  it('is deterministic and does not depend on key order', () => {
    const a = renderWebService(webService('s', 'n', { image: 'ghcr.io/a/s:1', config: { A: '1', B: '2' } }), contextFor(FULL));
    const b = renderWebService(webService('s', 'n', { config: { B: '2', A: '1' }, image: 'ghcr.io/a/s:1' }), contextFor(FULL));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('changes the revision exactly when the pod template changes', () => {
    const r1 = renderWebService(base, contextFor(FULL)).revision;
    const r2 = renderWebService(webService('shop', 'team-a', { ...base.spec, image: 'ghcr.io/acme/shop:1.0.1' }), contextFor(FULL)).revision;
    const r3 = renderWebService(webService('shop', 'team-a', { ...base.spec, scaling: { maxReplicas: 9 } }), contextFor(FULL)).revision;
    expect(r2).not.toBe(r1);
    expect(r3).toBe(r1);
  });

  it('offers the delivery seam: canary Deployment, stable template and weights', () => {
    const next = webService('shop', 'team-a', { ...base.spec, image: 'ghcr.io/acme/shop:2.0.0', networking: { visibility: 'public', host: 'shop.example.com' } });
    const ctx = contextFor(FULL);
    const oldTemplate = renderPodTemplate(base, ctx, 'stable');
    const canaryTemplate = renderPodTemplate(next, ctx, 'canary');
    const r = renderWebService(next, { ...ctx, rollout: { stableTemplate: oldTemplate, canary: { template: canaryTemplate, replicas: 1 }, weights: { stable: 90, canary: 10 } } });
    const stable = find(r.objects, 'Deployment', 'shop') as any;
    const canary = find(r.objects, 'Deployment', 'shop-canary') as any;
    expect(stable.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/shop:1.0.0');
    expect(canary.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/shop:2.0.0');
    expect(canary.spec.replicas).toBe(1);
    expect(canary.spec.selector.matchLabels).toEqual({ 'paved.dev/service': 'shop', 'paved.dev/track': 'canary' });
    expect(canary.spec.template.metadata.labels['paved.dev/track']).toBe('canary');
    expect((find(r.objects, 'HTTPRoute') as any).spec.rules[0].backendRefs.map((b: any) => b.weight)).toEqual([90, 10]);
    expect(podTemplateRevision(canaryTemplate)).toBe(r.revision);
  });

  it('applies escape-hatch patches and adopts extra manifests', () => {
    const ws = webService('shop', 'team-a', {
      ...base.spec,
      advanced: {
        patches: [
          { target: { kind: 'Deployment', name: 'shop' }, mergePatch: { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'EXTRA', value: '1' }] }] } } } } },
          { target: { kind: 'HorizontalPodAutoscaler' }, jsonPatch: [{ op: 'replace', path: '/spec/maxReplicas', value: 7 as never }] },
        ],
        extraManifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { mine: 'yes' } }, data: {} }],
      },
    });
    const r = renderWebService(ws, contextFor(FULL));
    expect(r.tier).toBe('advanced');
    const c = (find(r.objects, 'Deployment') as any).spec.template.spec.containers[0];
    expect(c.env.map((e: any) => e.name)).toEqual(['NODE_ENV', 'EXTRA']);
    expect(c.image).toBe('ghcr.io/acme/shop:1.0.0');
    expect((find(r.objects, 'HorizontalPodAutoscaler') as any).spec.maxReplicas).toBe(7);
    const extra = find(r.objects, 'ConfigMap', 'x') as any;
    expect(extra.metadata.namespace).toBe('team-a');
    expect(extra.metadata.labels).toMatchObject({ mine: 'yes', 'paved.dev/service': 'shop', 'paved.dev/team': 'team-a' });
    expect(extra.metadata.ownerReferences[0]).toMatchObject({ kind: 'WebService', name: 'shop', controller: true });
  });

  it('reports a patch that cannot apply as InvalidSpecError on its field', () => {
    const ws = webService('shop', 'team-a', {
      ...base.spec,
      advanced: { patches: [{ target: { kind: 'Deployment' }, jsonPatch: [{ op: 'replace', path: '/spec/nope/x', value: 1 as never }] }] },
    });
    expect(() => renderWebService(ws, contextFor(FULL))).toThrow(InvalidSpecError);
    try {
      renderWebService(ws, contextFor(FULL));
    } catch (err) {
      expect((err as InvalidSpecError).field).toBe('spec.advanced.patches[0]');
    }
    const none = webService('shop', 'team-a', { ...base.spec, advanced: { patches: [{ target: { kind: 'StatefulSet' }, mergePatch: {} }] } });
    expect(() => renderWebService(none, contextFor(FULL))).toThrow(/no rendered object matches target StatefulSet/);
  });
});

describe('spec helpers', () => {
  it('classifies tiers', () => {
    expect(tierOf({ image: 'a:1' })).toBe('managed');
    expect(tierOf({ image: 'a:1', overrides: {} })).toBe('managed');
    expect(tierOf({ image: 'a:1', overrides: { env: [] } })).toBe('managed');
    expect(tierOf({ image: 'a:1', overrides: { env: [{ name: 'A', value: '1' }] } })).toBe('configured');
    expect(tierOf({ image: 'a:1', overrides: { serviceAccountToken: false } })).toBe('configured');
    expect(tierOf({ image: 'a:1', overrides: { args: ['x'] }, advanced: { extraManifests: [{}] } })).toBe('advanced');
  });

  it('keeps requests <= limits whatever is overridden', () => {
    expect(renderResources('small', { limits: { cpu: '50m' } })).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '50m', memory: '256Mi' } });
    expect(renderResources('small', { requests: { memory: '1Gi' } })).toEqual({ requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } });
    expect(renderResources('large', undefined)).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '4Gi' } });
  });

  it('derives the version label from the tag', () => {
    expect(imageVersion('ghcr.io/a/b:1.2.3')).toBe('1.2.3');
    expect(imageVersion('localhost:5000/b')).toBeUndefined();
    expect(imageVersion('b@sha256:' + 'a'.repeat(64))).toBeUndefined();
  });

  it('applies exactly the defaults the CRD declares', () => {
    const crd = parse(readFileSync(fileURLToPath(new URL('../../crds/paved.dev_webservices.yaml', import.meta.url)), 'utf8'));
    const found: Record<string, unknown> = {};
    const walk = (node: any, path: string[]): void => {
      if (!node || typeof node !== 'object') return;
      if ('default' in node && !(typeof node.default === 'object' && !Array.isArray(node.default) && Object.keys(node.default).length === 0)) {
        found[path.join('.')] = node.default;
      }
      for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, [...path, k]);
    };
    walk(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec, []);
    // clusterScope defaults live inside list items (delivery templates); the renderer does not read them.
    expect(found).toEqual({ ...SPEC_DEFAULTS });
    const n = normalizeSpec({ image: 'a:1' });
    expect(n.scaling).toEqual({ minReplicas: 2, maxReplicas: 5, targetCPUUtilization: 70 });
    expect(n.networking.paths).toEqual(['/']);
  });
});

describe('the revision is the hash of the final pod template (issue 18 item 2)', () => {
  const envPatch = (value: string) => ({
    advanced: { patches: [{ target: { kind: 'Deployment', name: 'shop' }, mergePatch: { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'FLAG', value }] }] } } } } }] },
  });
  const ws = (value: string) => webService('shop', 'team-a', { image: 'ghcr.io/acme/shop:1.0.0', ...envPatch(value) });

  it('changes when only a patch on the pod template changes', () => {
    const ctx = contextFor(FULL);
    const a = renderDesiredPodTemplate(ws('a'), ctx);
    const b = renderDesiredPodTemplate(ws('b'), ctx);
    expect(a.revision).not.toBe(b.revision);
    expect(renderWebService(ws('a'), ctx).revision).toBe(a.revision);
    expect(a.template.spec?.containers[0]?.env).toContainEqual({ name: 'FLAG', value: 'a' });
    expect(a.template.metadata?.annotations?.['paved.dev/revision']).toBe(a.revision);
  });

  it('puts the rollout templates in as they are, without patching them twice', () => {
    const ctx = contextFor(FULL);
    const old = renderDesiredPodTemplate(ws('a'), ctx);
    const next = renderDesiredPodTemplate(ws('b'), ctx);
    const r = renderWebService(ws('b'), { ...ctx, rollout: { stableTemplate: old.template, canary: { template: next.template, replicas: 1 } } });
    const stable = find(r.objects, 'Deployment', 'shop') as any;
    const canary = find(r.objects, 'Deployment', 'shop-canary') as any;
    expect(stable.spec.template.spec.containers[0].env.filter((e: any) => e.name === 'FLAG')).toEqual([{ name: 'FLAG', value: 'a' }]);
    expect(canary.spec.template.spec.containers[0].env.filter((e: any) => e.name === 'FLAG')).toEqual([{ name: 'FLAG', value: 'b' }]);
    expect(canary.spec.template.metadata.annotations['paved.dev/revision']).toBe(r.revision);
  });
});
