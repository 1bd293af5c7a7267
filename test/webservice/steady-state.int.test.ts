/**
 * Steady state for every runtime and feature: after Available, every rendered object already matches the
 * live one (what the API server stores after defaulting), so a full resync sends no write at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSubset } from '../../src/kube/index.js';
import { renderWebService, type WebService, type WebServiceSpec } from '../../src/webservice/index.js';
import { eventually } from '../support/eventually.js';
import { FULL, GOLDEN_CASES, contextFor, webService } from './fixtures.js';
import { applyWebService, condition, createTeamNamespace, getObject, getWebService, startController, type RunningController } from './harness.js';

/** The first path where `desired` is not a subset of `live` (for a readable failure). */
function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (isSubset(desired, live)) return undefined;
  if (desired && typeof desired === 'object' && live && typeof live === 'object') {
    for (const [k, v] of Object.entries(desired)) {
      const d = firstDifference(v, (live as Record<string, unknown>)[k], `${path}/${k}`);
      if (d) return d;
    }
  }
  return `${path}: desired ${JSON.stringify(desired)} live ${JSON.stringify(live)}`;
}

describe('steady state (real API server)', () => {
  let ns: string;
  let ctrl: RunningController;
  beforeAll(async () => {
    ns = await createTeamNamespace('ws-steady', 'team-steady');
    ctrl = await startController(ns);
  });
  afterAll(async () => ctrl?.stop());

  it('writes nothing on resync for every runtime, tier and feature', async () => {
    const specs: Array<[string, WebServiceSpec]> = GOLDEN_CASES.map((c) => [c.ws.metadata?.name ?? '', c.ws.spec]);
    for (const runtime of ['node', 'python', 'go', 'java', 'generic'] as const) specs.push([`rt-${runtime}`, { image: 'ghcr.io/acme/x:1.0.0', runtime }]);
    // Private, no metrics, no dependents: a NetworkPolicy without any ingress rule.
    specs.push(['closed', { image: 'ghcr.io/acme/x:1.0.0', observability: { metrics: { enabled: false } } }]);
    for (const [name, spec] of specs) await applyWebService(webService(name, ns, spec));
    const stored: WebService[] = [];
    for (const [name] of specs) {
      stored.push(
        await eventually(
          async () => {
            const ws = await getWebService(ns, name);
            expect(condition(ws, 'Ready')?.status, `${name}: ${JSON.stringify(ws.status?.conditions)}`).toBe('True');
            return ws;
          },
          { timeoutMs: 90_000 },
        ),
      );
    }
    // Every rendered object is a subset of what the API server stored.
    const problems: string[] = [];
    for (const ws of stored) {
      const dependents = stored
        .filter((o) => (o.spec.networking?.dependencies ?? []).some((d) => d.service === ws.metadata?.name && (d.namespace ?? ns) === ns))
        .map((o) => ({ service: o.metadata?.name ?? '', namespace: ns }));
      const { objects } = renderWebService(ws, contextFor(FULL, { team: 'team-steady', dependents }));
      for (const obj of objects) {
        const live = await getObject(obj.apiVersion, obj.kind, ns, obj.metadata.name);
        const { ownerReferences: _o, ...meta } = obj.metadata;
        const diff = firstDifference({ ...obj, metadata: meta }, live);
        if (diff) problems.push(`${ws.metadata?.name} ${obj.kind}/${obj.metadata.name} ${diff}`);
      }
    }
    expect(problems).toEqual([]);
    await eventually(() => {
      expect(ctrl.controller.queue.len() + ctrl.controller.queue.processingCount()).toBe(0);
    });
    const before = ctrl.clients.counter.snapshot();
    for (const inf of ctrl.informers) inf.resync();
    await eventually(() => {
      expect(ctrl.controller.queue.len() + ctrl.controller.queue.processingCount()).toBe(0);
    });
    const after = ctrl.clients.counter.snapshot();
    const writes = Object.entries(after).filter(([k, v]) => !/^(get|list|watch) /.test(k) && v !== (before[k] ?? 0));
    expect(writes).toEqual([]);
  });
});
