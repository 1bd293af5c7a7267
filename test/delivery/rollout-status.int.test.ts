/**
 * What people and tools see of a rollout, end to end on the real API server and Prometheus: the
 * WebService's conditions and printer columns (the API server's Table output, what `kubectl get ws`
 * prints) during and after a rollout, with status.conditions agreeing with status.rollout at every
 * write; config versioned per revision (a failed config change leaves the stable pods, even new ones, on
 * the previous config); and a Prometheus outage during a step reported as such and recovered from.
 */
import * as https from 'node:https';
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/kube/conditions.js';
import { createInformer, KubeClients } from '../../src/kube/index.js';
import type { RolloutState } from '../../src/delivery/types.js';
import { DASHBOARD_SIDECAR_LABEL } from '../../src/webservice/render/dashboard.js';
import { adminKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { SLOW, WS_API, errorGate, release, rolloutFixture, type Env } from './stack.js';

const fx = rolloutFixture();

interface Table {
  columnDefinitions: Array<{ name: string }>;
  rows: Array<{ cells: unknown[] }>;
}

/** GET of one WebService as the API server's Table (what kubectl get prints), columns by name. */
async function tableRow(ns: string, name: string): Promise<Record<string, unknown>> {
  const kc = adminKubeConfig();
  const server = new URL(kc.getCurrentCluster()!.server);
  const options: https.RequestOptions = { method: 'GET', hostname: server.hostname, port: server.port, path: `/apis/${WS_API}/namespaces/${ns}/webservices/${name}`, headers: {} };
  await kc.applyToHTTPSOptions(options);
  options.headers = { ...options.headers, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
  const table = await new Promise<Table>((resolve, reject) => {
    const req = https.request(options, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as Table) : reject(new Error(`${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end();
  });
  const cells = table.rows[0]?.cells ?? [];
  return Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name, cells[i]]));
}

type WsObject = KubernetesObject & { status?: { rollout?: RolloutState; conditions?: Condition[] } };

/** Every version of the WebService the API server stores, as a watch delivers them. */
async function recordVersions(ns: string): Promise<{ versions: WsObject[]; stop(): Promise<void> }> {
  const inf = createInformer<WsObject>({ clients: KubeClients.fromKubeConfig(adminKubeConfig()), apiVersion: WS_API, kind: 'WebService', namespace: ns });
  const versions: WsObject[] = [];
  inf.on('add', (o) => void versions.push(structuredClone(o)));
  inf.on('update', (o) => void versions.push(structuredClone(o)));
  await inf.start();
  await inf.waitForSync();
  return { versions, stop: () => inf.stop() };
}

/** status.conditions says what status.rollout says. */
function expectAgreement(ws: WsObject): void {
  const rollout = ws.status?.rollout;
  if (!rollout) return;
  const cond = (type: string) => ws.status?.conditions?.find((c) => c.type === type);
  const progressing = cond('Progressing');
  const degraded = cond('Degraded');
  const at = `resourceVersion ${ws.metadata?.resourceVersion} (${rollout.phase})`;
  expect(progressing?.status, at).toBe(rollout.phase === 'Progressing' || rollout.phase === 'Promoting' ? 'True' : 'False');
  const measuring = rollout.phase === 'Paused' && (rollout.pauseReason === 'AnalysisError' || rollout.pauseReason === 'InvalidAnalysis');
  expect(degraded?.status, at).toBe(rollout.phase === 'RolledBack' || measuring ? 'True' : 'False');
  if (rollout.phase === 'Progressing') expect(progressing?.message, at).toContain(`at ${rollout.weight}%`);
  if (rollout.phase === 'RolledBack' && rollout.failure?.metric) expect(degraded?.message, at).toContain(`metric ${rollout.failure.metric}`);
}

async function list<T extends KubernetesObject>(env: Env, apiVersion: string, kind: string, labelSelector = 'paved.dev/service=shop'): Promise<T[]> {
  return (await env.k.clients.list<T>(apiVersion, kind, { namespace: env.ns, labelSelector })).items.filter((o) => !o.metadata?.deletionTimestamp);
}

const envFromName = (spec: { containers?: Array<{ envFrom?: Array<{ configMapRef?: { name?: string } }> }> } | undefined) =>
  spec?.containers?.[0]?.envFrom?.[0]?.configMapRef?.name;

describe('rollout status end to end', () => {
  it('kubectl get ws shows Progressing/Degraded, the step and the weight; status.conditions agrees with status.rollout at every write', async () => {
    const env = await fx.setup('status-table', [{ ...errorGate[0], count: 6 }], {}, { followRoute: true });
    const recorded = await recordVersions(env.ns);
    fx.cleanups.push(() => recorded.stop());
    expect(await tableRow(env.ns, 'shop')).toMatchObject({ Rollout: 'Healthy', Step: 0, Weight: 0 });

    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => {
      expect(await tableRow(env.ns, 'shop')).toMatchObject({ Rollout: 'Progressing', Step: 1, Weight: 10 });
      const ws = (await env.k.webService('shop')) as WsObject;
      expect(ws.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'RolloutProgressing' });
      expect(ws.status?.conditions?.find((c) => c.type === 'Progressing')?.message).toMatch(/^step 2\/5 at 10%: /);
    }, SLOW);
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(50), SLOW);
    env.emitter.setErrorRate('canary', 0.5);
    await eventually(async () => {
      expect(await tableRow(env.ns, 'shop')).toMatchObject({ Rollout: 'RolledBack', Weight: 0 });
      const ws = (await env.k.webService('shop')) as WsObject;
      const degraded = ws.status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded).toMatchObject({ status: 'True', reason: 'AnalysisFailed' });
      expect(degraded?.message).toMatch(/metric error-rate = 0\.\d+/);
      expect(ws.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    }, SLOW);
    const wide = await tableRow(env.ns, 'shop');
    expect(wide).toHaveProperty('Degraded'); // a priority-1 column: in the Table, shown by kubectl get -o wide
    await recorded.stop();
    const withRollout = recorded.versions.filter((v) => v.status?.rollout);
    expect(new Set(withRollout.map((v) => v.status?.rollout?.phase))).toEqual(new Set(['Healthy', 'Progressing', 'RolledBack']));
    for (const v of withRollout) expectAgreement(v);
  });

  it('a config-only change that fails analysis leaves the stable pods, new ones included, on the previous config; only referenced ConfigMaps remain', async () => {
    const env = await fx.setup('status-config', [{ ...errorGate[0], count: 4 }], {}, { followRoute: true, spec: { config: { GREETING: 'v1' } } });
    const stable = await env.k.deployment('shop');
    const v1 = envFromName(stable?.spec?.template.spec);
    expect(v1).toMatch(/^shop-config-[0-9a-f]{10}$/);

    await env.k.patchWebService('shop', { spec: { config: { GREETING: 'v2' } } });
    await eventually(async () => expect((await env.k.rollout('shop')).weight).toBe(10), SLOW);
    const v2 = envFromName((await env.k.deployment('shop-canary'))?.spec?.template.spec);
    expect(v2).toMatch(/^shop-config-[0-9a-f]{10}$/);
    expect(v2).not.toBe(v1);
    expect(envFromName((await env.k.deployment('shop'))?.spec?.template.spec)).toBe(v1);
    env.emitter.setErrorRate('canary', 0.5);
    const rolledBack = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('RolledBack');
      return s;
    }, SLOW);

    // After the rollback, the stable Deployment scales up (an HPA, a drain): its new pods read v1.
    const path = await env.k.clients.resourcePath({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: env.ns, name: 'shop' }, 'scale');
    await env.k.clients.request({ method: 'PATCH', path, body: { spec: { replicas: 4 } }, contentType: 'application/merge-patch+json' });
    const pods = await eventually(async () => {
      const p = await list<V1Pod & KubernetesObject>(env, 'v1', 'Pod', 'paved.dev/service=shop,paved.dev/track=stable');
      expect(p).toHaveLength(4);
      return p;
    }, SLOW);
    const newer = pods.filter((p) => Date.parse(String(p.metadata?.creationTimestamp)) >= Date.parse(rolledBackAtSecond(rolledBack)));
    expect(newer.length).toBeGreaterThanOrEqual(2);
    for (const p of pods) expect(envFromName(p.spec), p.metadata?.name).toBe(v1);
    const byName = async (name: string) => (await list<V1ConfigMap & KubernetesObject>(env, 'v1', 'ConfigMap')).find((c) => c.metadata?.name === name);
    expect((await byName(v1!))?.data).toEqual({ GREETING: 'v1' });
    expect((await byName(v1!))?.immutable).toBe(true);

    // The config ConfigMaps left are exactly those the Deployments read (stable: v1, the scaled-down
    // canary: v2); the service's Grafana dashboard ConfigMap is another child and not counted.
    const configMaps = async () =>
      (await list<V1ConfigMap & KubernetesObject>(env, 'v1', 'ConfigMap')).filter((c) => c.metadata?.labels?.[DASHBOARD_SIDECAR_LABEL] !== '1');
    const referenced = async () => {
      const ds = await list<V1Deployment & KubernetesObject>(env, 'apps/v1', 'Deployment');
      return new Set(ds.map((d) => envFromName(d.spec?.template.spec)));
    };
    await eventually(async () => {
      const names = new Set((await configMaps()).map((c) => c.metadata?.name));
      expect(names).toEqual(await referenced());
      expect(names).toEqual(new Set([v1, v2]));
    }, SLOW);

    // A good config v3 is promoted: v1 and v2 are read by nobody any more and are pruned.
    env.emitter.setErrorRate('canary', 0);
    await env.k.patchWebService('shop', { spec: { config: { GREETING: 'v3' } } });
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('Healthy');
      expect(s.stableRevision).toBe(s.canaryRevision);
      const names = (await configMaps()).map((c) => c.metadata?.name);
      expect(names).toHaveLength(1);
      expect(new Set(names)).toEqual(await referenced());
      expect((await byName(names[0]!))?.data).toEqual({ GREETING: 'v3' });
    }, { timeoutMs: 240_000, intervalMs: 1000 });
  });

  it('Prometheus stopped during a step: the pause says "Prometheus unavailable", and the rollout resumes by itself once it answers', async () => {
    const env = await fx.setup('status-outage', [{ ...errorGate[0], count: 6 }], {}, { followRoute: true });
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s).toMatchObject({ weight: 10, stepIndex: 1 });
      expect(s.currentRun?.metrics[0]?.successful ?? 0).toBeGreaterThan(0);
    }, SLOW);
    const pid = fx.prom().process.pid;
    process.kill(pid, 'SIGSTOP'); // Prometheus stops answering: every query times out
    try {
      const paused = await eventually(async () => {
        const s = await env.k.rollout('shop');
        expect(s).toMatchObject({ phase: 'Paused', pauseReason: 'AnalysisError', weight: 10 });
        return s;
      }, SLOW);
      expect(paused.message).toMatch(/Prometheus unavailable: (timeout_error|network_error)/);
      expect(paused.message).toMatch(/consecutive query errors/);
      expect(paused.message).not.toMatch(/no data/);
      const ws = (await env.k.webService('shop')) as WsObject;
      expect(ws.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'PrometheusUnavailable' });
      expect(await tableRow(env.ns, 'shop')).toMatchObject({ Rollout: 'Paused', Weight: 10 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const done = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase).toBe('Healthy');
      expect(s.stableRevision).toBe(s.canaryRevision);
      return s;
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    expect(done.history.map((h) => [h.stepIndex, h.phase])).toEqual([[1, 'Error'], [1, 'Successful'], [3, 'Successful']]);
    const reasons = (await env.k.events()).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['RolloutPausedAnalysisError', 'RolloutResumed', 'RolloutPromoted']));
  });
});

/** metav1.Time has second precision: pods created in the rollback's second count as after it. */
function rolledBackAtSecond(s: RolloutState): string {
  return new Date(Math.floor(Date.parse(s.rolledBackAt ?? '') / 1000) * 1000).toISOString();
}
