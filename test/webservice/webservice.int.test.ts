/**
 * The WebService controller against the real API server (kube-controller-manager and kwok run the pods):
 * Available with all objects, NetworkPolicy follows dependencies, public -> private prunes the route,
 * a hand edit of the image is reverted (the HPA-owned replicas are not), escape-hatch patches apply but a
 * privileged one is refused with a message, audit mode counts and still applies, and a steady state writes
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/kube/index.js';
import { configMapName } from '../../src/webservice/render/deployment.js';
import { createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { webService } from './fixtures.js';
import {
  adminClients,
  applyWebService,
  condition,
  createTeamNamespace,
  getObject,
  getWebService,
  startController,
  type RunningController,
} from './harness.js';



async function waitAvailable(ns: string, name: string, timeoutMs = 90_000) {
  return eventually(
    async () => {
      const ws = await getWebService(ns, name);
      expect(condition(ws, 'Available')?.status, JSON.stringify(ws.status?.conditions)).toBe('True');
      expect(ws.status?.observedGeneration).toBe(ws.metadata?.generation);
      return ws;
    },
    { timeoutMs },
  );
}

describe('WebService controller (real API server)', () => {
  let ns: string;
  let ctrl: RunningController;

  beforeAll(async () => {
    ns = await createTeamNamespace('ws-int');
    ctrl = await startController(ns);
  });
  afterAll(async () => {
    await ctrl?.stop();
  });

  it('reaches Available with all objects present, and a steady state writes nothing', async () => {
    await applyWebService(
      webService('shop', ns, {
        image: 'ghcr.io/acme/shop:1.0.0',
        runtime: 'node',
        networking: { visibility: 'public', host: 'shop.example.com' },
        config: { GREETING: 'hello' },
      }),
    );
    const ws = await waitAvailable(ns, 'shop');
    expect(ws.status?.tier).toBe('managed');
    expect(ws.status?.url).toBe('https://shop.example.com/');
    const kinds = (ws.status?.inventory ?? []).map((e) => `${e.kind}/${e.name}`);
    expect(kinds).toEqual([
      'ServiceAccount/shop',
      `ConfigMap/${configMapName('shop', { GREETING: 'hello' })}`,
      'Deployment/shop',
      'Service/shop',
      'Service/shop-stable',
      'Service/shop-canary',
      'HorizontalPodAutoscaler/shop',
      'PodDisruptionBudget/shop',
      'NetworkPolicy/shop',
      'HTTPRoute/shop',
      'ServiceMonitor/shop',
      'ConfigMap/shop-dashboard',
    ]);
    const tiers = (await metricsRegistry.getSingleMetric('paved_webservices')?.get())?.values ?? [];
    expect(tiers.find((v) => v.labels['tier'] === 'managed')?.value).toBeGreaterThanOrEqual(1);
    for (const e of ws.status?.inventory ?? []) {
      expect(await getObject(e.apiVersion, e.kind, ns, e.name), `${e.kind}/${e.name}`).toBeDefined();
    }
    const d = await getObject('apps/v1', 'Deployment', ns, 'shop');
    expect(d.metadata.ownerReferences[0]).toMatchObject({ kind: 'WebService', name: 'shop', controller: true });
    // Written by the impersonated deployer, with field manager paved.
    expect(d.metadata.managedFields.map((f: any) => f.manager)).toContain('paved-webservice');

    // Steady state: a resync of every cache reconciles everything again and writes nothing.
    const before = ctrl.clients.counter.writes();
    for (const inf of ctrl.informers) inf.resync();
    await eventually(() => {
      expect(ctrl.controller.queue.len()).toBe(0);
      expect(ctrl.controller.queue.processingCount()).toBe(0);
    });
    expect(ctrl.clients.counter.writes()).toBe(before);
  });

  it('updates the NetworkPolicy when dependencies change, both ways', async () => {
    await applyWebService(webService('api', ns, { image: 'ghcr.io/acme/api:1.0.0', runtime: 'go', networking: { dependencies: [{ service: 'db' }] } }));
    await applyWebService(webService('db', ns, { image: 'ghcr.io/acme/db:1.0.0', runtime: 'generic' }));
    await waitAvailable(ns, 'api');
    const egressTo = async (name: string) => {
      const np = await getObject('networking.k8s.io/v1', 'NetworkPolicy', ns, name);
      return np.spec.egress.flatMap((r: any) => (r.to ?? []).map((t: any) => t.podSelector?.matchLabels?.['paved.dev/service'])).filter(Boolean);
    };
    const ingressFrom = async (name: string) => {
      const np = await getObject('networking.k8s.io/v1', 'NetworkPolicy', ns, name);
      return (np.spec.ingress ?? []).flatMap((r: any) => (r.from ?? []).map((t: any) => t.podSelector?.matchLabels?.['paved.dev/service'])).filter(Boolean);
    };
    await eventually(async () => {
      expect(await egressTo('api')).toEqual(['db']);
      expect(await ingressFrom('db')).toEqual(['api']);
    });
    await applyWebService(webService('api', ns, { image: 'ghcr.io/acme/api:1.0.0', runtime: 'go', networking: { dependencies: [{ service: 'cache' }] } }));
    await eventually(async () => {
      expect(await egressTo('api')).toEqual(['cache']);
      expect(await ingressFrom('db')).toEqual([]);
    });
  });

  it('removes the route when a public service becomes private', async () => {
    const spec = { image: 'ghcr.io/acme/web:1.0.0', networking: { visibility: 'public' as const, host: 'web.example.com' } };
    await applyWebService(webService('web', ns, spec));
    await eventually(async () => expect(await getObject('gateway.networking.k8s.io/v1', 'HTTPRoute', ns, 'web')).toBeDefined());
    await applyWebService(webService('web', ns, { ...spec, networking: { visibility: 'private' } }));
    await eventually(async () => {
      expect(await getObject('gateway.networking.k8s.io/v1', 'HTTPRoute', ns, 'web')).toBeUndefined();
      const ws = await getWebService(ns, 'web');
      expect(ws.status?.inventory?.map((e) => e.kind)).not.toContain('HTTPRoute');
      expect(ws.status?.url).toBeUndefined();
    });
  });

  it('renders a Grafana dashboard ConfigMap for the sidecar, and prunes it when metrics are turned off', async () => {
    const spec = { image: 'ghcr.io/acme/dash:1.0.0' };
    await applyWebService(webService('dash', ns, spec));
    const cm = await eventually(async () => {
      const found = await getObject('v1', 'ConfigMap', ns, 'dash-dashboard');
      expect(found).toBeDefined();
      return found;
    });
    expect(cm.metadata.labels['grafana_dashboard']).toBe('1');
    expect(cm.metadata.ownerReferences[0]).toMatchObject({ kind: 'WebService', name: 'dash', controller: true });
    expect(JSON.parse(cm.data[`${ns}-dash.json`]).title).toBe(`paved / ${ns} / dash`);
    await applyWebService(webService('dash', ns, { ...spec, observability: { metrics: { enabled: false } } }));
    await eventually(async () => {
      expect(await getObject('v1', 'ConfigMap', ns, 'dash-dashboard')).toBeUndefined();
      const ws = await getWebService(ns, 'dash');
      expect(ws.status?.inventory?.map((e) => `${e.kind}/${e.name}`)).not.toContain('ConfigMap/dash-dashboard');
    });
  });

  it('reverts a hand edit of the image without fighting the replicas another owner sets', async () => {
    await applyWebService(webService('drift', ns, { image: 'ghcr.io/acme/drift:1.0.0', scaling: { minReplicas: 1, maxReplicas: 4 } }));
    await waitAvailable(ns, 'drift');
    const admin = adminClients();
    // Someone scales through the scale subresource (what the HPA does) and edits the image by hand.
    await admin.request({
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${ns}/deployments/drift/scale`,
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 3 } },
    });
    await admin.request({
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${ns}/deployments/drift`,
      query: { fieldManager: 'kubectl-edit' },
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/drift:hacked' }] } } } },
    });
    await eventually(async () => {
      const d = await getObject('apps/v1', 'Deployment', ns, 'drift');
      expect(d.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/drift:1.0.0');
      expect(d.spec.replicas).toBe(3);
    });
  });

  it('applies an escape-hatch patch, and refuses a privileged one with a message', async () => {
    await applyWebService(
      webService('hatch', ns, {
        image: 'ghcr.io/acme/hatch:1.0.0',
        advanced: { patches: [{ target: { kind: 'Service', name: 'hatch' }, mergePatch: { metadata: { annotations: { 'example.com/lb': 'internal' } } } }] },
      }),
    );
    await eventually(async () => {
      const svc = await getObject('v1', 'Service', ns, 'hatch');
      expect(svc.metadata.annotations['example.com/lb']).toBe('internal');
      expect((await getWebService(ns, 'hatch')).status?.tier).toBe('advanced');
    });
    await applyWebService(
      webService('hatch', ns, {
        image: 'ghcr.io/acme/hatch:2.0.0',
        advanced: {
          patches: [{ target: { kind: 'Deployment' }, mergePatch: { spec: { template: { spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] } } } } }],
        },
      }),
    );
    const ws = await eventually(async () => {
      const ws = await getWebService(ns, 'hatch');
      expect(condition(ws, 'PolicyViolation')?.status).toBe('True');
      return ws;
    });
    expect(condition(ws, 'PolicyViolation')?.message).toContain(
      'no-privileged: Deployment/hatch spec.template.spec.containers[0].securityContext.privileged: privileged containers are not allowed',
    );
    expect(condition(ws, 'Ready')).toMatchObject({ status: 'False', reason: 'PolicyViolation' });
    // Fail closed: nothing of the refused render was applied.
    const d = await getObject('apps/v1', 'Deployment', ns, 'hatch');
    expect(d.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/hatch:1.0.0');
    expect(d.spec.template.spec.containers[0].securityContext.privileged).toBe(false);
  });
});

describe('impersonation (real API server)', () => {
  it('writes as the namespace deployer: without its RBAC nothing is applied and the status says Forbidden', async () => {
    // A namespace with no paved-deployer: the controller's own (admin) identity could write there, the
    // impersonated deployer cannot.
    const ns = await createTestNamespace('ws-nodeployer', { 'paved.dev/team': 'team-x' });
    const ctrl = await startController(ns);
    try {
      await applyWebService(webService('orphan', ns, { image: 'ghcr.io/acme/orphan:1.0.0' }));
      const ws = await eventually(async () => {
        const ws = await getWebService(ns, 'orphan');
        expect(condition(ws, 'Ready')?.reason).toBe('Forbidden');
        return ws;
      });
      expect(condition(ws, 'Ready')?.message).toContain('system:serviceaccount:' + ns + ':paved-deployer');
      expect(await getObject('apps/v1', 'Deployment', ns, 'orphan')).toBeUndefined();
    } finally {
      await ctrl.stop();
    }
  });
});

describe('audit mode (real API server)', () => {
  it('counts a violation and still applies', async () => {
    const ns = await createTeamNamespace('ws-audit');
    const ctrl = await startController(ns, { policyModes: { 'no-latest-tag': 'audit' } });
    try {
      const counter = async () =>
        ((await metricsRegistry.getSingleMetric('paved_webservice_policy_violations_observed_total')?.get())?.values ?? [])
          .filter((v) => v.labels['policy'] === 'no-latest-tag' && v.labels['mode'] === 'audit')
          .reduce((a, v) => a + v.value, 0);
      const before = await counter();
      await applyWebService(webService('edge', ns, { image: 'ghcr.io/acme/edge:latest' }));
      const ws = await eventually(async () => {
        const ws = await getWebService(ns, 'edge');
        expect(ws.status?.policy?.violations).toEqual([
          expect.objectContaining({ policy: 'no-latest-tag', object: 'Deployment/edge', field: 'spec.template.spec.containers[0].image', mode: 'audit' }),
        ]);
        return ws;
      });
      expect(condition(ws, 'PolicyViolation')?.status).toBe('False');
      const d = await getObject('apps/v1', 'Deployment', ns, 'edge');
      expect(d.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/edge:latest');
      expect(await counter()).toBe(before + 1);
      const gauge = (await metricsRegistry.getSingleMetric('paved_webservice_policy_violations')?.get())?.values ?? [];
      expect(gauge.find((v) => v.labels['policy'] === 'no-latest-tag' && v.labels['mode'] === 'audit')?.value).toBeGreaterThanOrEqual(1);
    } finally {
      await ctrl.stop();
    }
  });
});
