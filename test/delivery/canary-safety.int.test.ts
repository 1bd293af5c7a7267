/**
 * Canary safety end to end, on the real API server (kwok runs the pods, the real scheduler places them)
 * with a real Prometheus and a traffic emitter that follows the HTTPRoute weights (a canary at 0% gets
 * no request, as behind a real gateway):
 * - a new revision is judged by its own pods only, not by the previous canary's that a rolling update
 *   keeps Ready;
 * - background analysis measures only while the canary serves traffic;
 * - a step never advances on a failed latest measurement.
 * Pods that stay Pending are played by a CPU request no node can hold; a bigger simulated node, added
 * later, lets them start without changing the revision.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { Gauge, Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REVISION_ANNOTATION } from '../../src/delivery/observe.js';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { SLOW, errorGate, release, rolloutFixture, type Env } from './stack.js';

const fx = rolloutFixture();

/** A deadline long enough for pods that wait for a node on purpose. */
const PATIENT = { progressDeadlineSeconds: 300 };

/** More CPU than any node of the local cluster has (64): the pod stays Pending. */
const TOO_BIG = { overrides: { resources: { requests: { cpu: '100' }, limits: { cpu: '100' } } } };

async function canaryPods(env: Env): Promise<V1Pod[]> {
  const list = await env.k.clients.list<V1Pod & KubernetesObject>('v1', 'Pod', { namespace: env.ns, labelSelector: 'paved.dev/service=shop,paved.dev/track=canary' });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

const isReady = (p: V1Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const revisionOf = (p: V1Pod) => p.metadata?.annotations?.[REVISION_ANNOTATION];

// The namespaces go with the file (createTestNamespace); the simulated nodes are removed after each test.
const nodes: string[] = [];
async function removeBigNodes(): Promise<void> {
  const clients = KubeClients.fromKubeConfig(adminKubeConfig());
  for (const name of nodes.splice(0)) {
    await clients.request({ method: 'DELETE', path: `/api/v1/nodes/${name}` }).catch(() => undefined);
    await eventually(async () => expect(await clients.get({ apiVersion: 'v1', kind: 'Node', name })).toBeUndefined(), SLOW);
  }
}
afterEach(removeBigNodes);
afterAll(removeBigNodes);

/** A simulated node (kwok manages it) with room for the big pods. */
async function addBigNode(env: Env): Promise<string> {
  const name = uniqueName('kwok-big');
  nodes.push(name);
  await env.k.clients.request({
    method: 'POST',
    path: '/api/v1/nodes',
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok', 'topology.kubernetes.io/zone': 'zone-big' },
      },
      status: {
        allocatable: { cpu: '1000', memory: '1Ti', pods: '100', 'ephemeral-storage': '1Ti' },
        capacity: { cpu: '1000', memory: '1Ti', pods: '100', 'ephemeral-storage': '1Ti' },
      },
    },
  });
  return name;
}

/** Asserts `check` at every poll for `ms` (a property that must hold for a while, not a timing). */
async function holds(ms: number, check: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await check();
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('canary safety end to end', () => {
  it("a new revision whose pods stay Pending gets no weight and no analysis while the previous canary's pod is Ready", async () => {
    // The analysis at 10% lasts long enough for the spec to change during it.
    const env = await fx.setup('canary-own-pods', [{ ...errorGate[0], count: 100 }], PATIENT, { followRoute: true });
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    const r2 = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s).toMatchObject({ weight: 10, stepIndex: 1 });
      expect(s.currentRun?.metrics[0]?.successful ?? 0).toBeGreaterThan(0);
      return s.canaryRevision;
    }, SLOW);
    expect(env.emitter.canaryWeight()).toBe(10);

    // A spec change while r2 serves 10%: r3's pod cannot be scheduled; r2's pod stays Ready (maxUnavailable 0).
    await env.k.patchWebService('shop', { spec: { image: 'ghcr.io/acme/shop:3.0.0', ...TOO_BIG } });
    const r3 = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.canaryRevision).not.toBe(r2);
      const pods = await canaryPods(env);
      expect(pods.filter((p) => revisionOf(p) === s.canaryRevision && p.status?.phase === 'Pending')).toHaveLength(1);
      expect(pods.filter((p) => revisionOf(p) === r2 && isReady(p))).toHaveLength(1);
      return s.canaryRevision;
    }, SLOW);
    // The canary Deployment counts r2's pod as Ready, and 1 updated pod (r3's, Pending): the old rule would pass.
    await eventually(async () => {
      const d = await env.k.deployment('shop-canary');
      expect(d?.status?.readyReplicas).toBe(1);
      expect(d?.status?.updatedReplicas).toBe(1);
    }, SLOW);
    await holds(15_000, async () => {
      const s = await env.k.rollout('shop');
      expect(s).toMatchObject({ phase: 'Progressing', canaryRevision: r3, stepIndex: 0, weight: 0 });
      expect(s.currentRun).toBeUndefined();
      expect(s.history.some((h) => h.revision === r3)).toBe(false);
      expect(env.weights.at(-1)).toBe(0);
      expect(env.emitter.canaryWeight()).toBe(0);
    });
    expect((await env.k.rollout('shop')).message).toMatch(/waiting for 1 canary pods to be Ready for 10% \(0 Ready\)/);

    // r3's own pod becomes Ready: now it gets the weight, then its analysis.
    await addBigNode(env);
    await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s).toMatchObject({ canaryRevision: r3, weight: 10, stepIndex: 1 });
      expect(s.currentRun?.revision).toBe(r3);
      expect((await canaryPods(env)).filter((p) => revisionOf(p) === r3 && isReady(p))).toHaveLength(1);
    }, SLOW);
    expect(env.weights).toEqual([0, 10, 0, 10]);
  });

  it('background analysis with slow-starting pods neither measures nor pauses before the canary serves traffic', async () => {
    const env = await fx.setup(
      'canary-bg-slow',
      errorGate,
      {
        steps: [{ setWeight: 50 }, { pause: { duration: '10s' } }, { setWeight: 100 }],
        analysis: { templates: [{ templateName: 'gate' }] },
        ...PATIENT,
      },
      { followRoute: true },
    );
    await env.k.patchWebService('shop', { spec: { image: 'ghcr.io/acme/shop:2.0.0', ...TOO_BIG } });
    // The canary's pod exists (Pending) as soon as its Deployment is applied, a moment before the status
    // write of the same reconcile says Progressing: wait for both.
    await eventually(async () => {
      const pods = await canaryPods(env);
      expect(pods.some((p) => p.status?.phase === 'Pending')).toBe(true);
      expect((await env.k.rollout('shop')).phase).toBe('Progressing');
    }, SLOW);
    // Without traffic every reading would be "no data" (inconclusiveLimit 1): two of them would pause it.
    await holds(15_000, async () => {
      const s = await env.k.rollout('shop');
      expect(s).toMatchObject({ phase: 'Progressing', weight: 0, stepIndex: 0 });
      expect(s.backgroundRun).toBeUndefined();
      expect(env.emitter.canaryWeight()).toBe(0);
    });
    await addBigNode(env);
    // Under traffic it measures: a background run passes (and the rollout never paused).
    const done = await eventually(async () => {
      const s = await env.k.rollout('shop');
      expect(s.phase, s.message).not.toBe('Paused');
      expect(s.history.some((h) => h.id.includes('-bg') && h.phase === 'Successful'), s.message).toBe(true);
      return s;
    }, SLOW);
    expect(done.weight).toBeGreaterThan(0);
    const background = done.history.filter((h) => h.id.includes('-bg'));
    const readings = background.flatMap((h) => h.metrics.flatMap((m) => m.measurements));
    expect(readings.length).toBeGreaterThan(0);
    expect(readings.every((m) => m.phase === 'Successful')).toBe(true);
    const reasons = (await env.k.events()).map((e) => e.reason);
    expect(reasons).not.toContain('RolloutPausedInconclusive');
  });

  it('a canary whose measurements alternate good/bad never advances on a bad latest reading', async () => {
    // A gauge the test sets before each measurement: 0 good, 1 bad (max 0.5).
    const registry = new Registry();
    const verdict = new Gauge({ name: 'test_canary_verdict', help: 'what the next measurement reads', labelNames: ['namespace'] as const, registers: [registry] });
    const server: Server = createServer((_req, res) => {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fx.cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const metric = {
      name: 'verdict',
      query: 'max(test_canary_verdict{namespace="{{namespace}}"})',
      max: 0.5,
      interval: '4s',
      count: 2,
      failureLimit: 3,
    };
    const env = await fx.setup('canary-flapping', [metric], {}, { followRoute: true });
    verdict.set({ namespace: env.ns }, 0);
    await fx.prom().addTarget(`verdict-${env.ns}`, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    await eventually(async () => {
      const text = await fetch(`${fx.prom().url}/api/v1/query?query=${encodeURIComponent(`test_canary_verdict{namespace="${env.ns}"}`)}`).then((r) => r.text());
      expect(text).toContain('"0"');
    }, SLOW);

    const before = (await env.k.rollout('shop')).stableRevision;
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    // Drive: the n-th measurement of the rollout (0-based) reads good when n is even, bad when odd.
    let taken = 0;
    const done = await eventually(
      async () => {
        const s = await env.k.rollout('shop');
        const runs = [...s.history, ...(s.currentRun ? [s.currentRun] : [])].filter((r) => r.revision === s.canaryRevision);
        const n = runs.reduce((sum, r) => sum + (r.metrics[0]?.measurements.length ?? 0), 0);
        if (n !== taken) {
          taken = n;
          verdict.set({ namespace: env.ns }, n % 2 === 0 ? 0 : 1);
        }
        expect(s.phase).toBe('Healthy');
        expect(s.stableRevision).not.toBe(before);
        return s;
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    const passed = done.history.filter((h) => h.phase === 'Successful');
    expect(passed.map((h) => h.stepIndex)).toEqual([1, 3]);
    for (const run of passed) expect(run.metrics[0]!.measurements.at(-1)?.phase, `run ${run.id}`).toBe('Successful');
    // count 2 was reached on a bad reading at least once, and one more measurement was taken
    expect(passed.some((run) => run.metrics[0]!.measurements.length > 2)).toBe(true);
    expect(passed.flatMap((run) => run.metrics[0]!.measurements).some((m) => m.phase === 'Failed')).toBe(true);
    // Healthy is in status before the route's return to 0% reaches the recorder.
    await eventually(() => expect(env.weights).toEqual([0, 10, 50, 100, 0]), SLOW);
  });
});
