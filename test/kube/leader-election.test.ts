import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/kube/clock.js';
import { kubeApiErrorFrom } from '../../src/kube/api-errors.js';
import type { KubeClients, KubeRequest } from '../../src/kube/client.js';
import { LeaderElector, type LeaseRecord } from '../../src/kube/leader-election.js';

/** An in-memory Lease endpoint with optimistic concurrency, and a switch to cut one caller off. */
function fakeLeaseApi() {
  let lease: { apiVersion: string; kind: string; metadata: { name: string; namespace: string; resourceVersion: string }; spec: LeaseRecord } | undefined;
  let rv = 0;
  const down = new Set<string>();
  const clientsFor = (who: string) =>
    ({
      async request(req: KubeRequest) {
        if (down.has(who)) throw new Error(`${who}: connection refused`);
        if (req.method === 'GET') {
          if (!lease) throw kubeApiErrorFrom(404, { reason: 'NotFound' });
          return structuredClone(lease);
        }
        const body = req.body as typeof lease & object;
        if (req.method === 'POST') {
          if (lease) throw kubeApiErrorFrom(409, { reason: 'AlreadyExists' });
          lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
          return structuredClone(lease);
        }
        if (req.method === 'PUT') {
          if (!lease || body.metadata.resourceVersion !== lease.metadata.resourceVersion) throw kubeApiErrorFrom(409, { reason: 'Conflict' });
          lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
          return structuredClone(lease);
        }
        throw new Error('unexpected');
      },
    }) as unknown as KubeClients;
  return { clientsFor, down, lease: () => lease };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('LeaderElector (fake clock, in-memory Lease)', () => {
  it('one leader; a leader cut off from the API steps down before the standby takes over', async () => {
    const clock = new FakeClock();
    const api = fakeLeaseApi();
    const events: string[] = [];
    const make = (id: string) =>
      new LeaderElector({
        clients: api.clientsFor(id),
        namespace: 'ns',
        name: 'lease',
        identity: id,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 250,
        clock,
        random: () => 0,
        onStartedLeading: () => void events.push(`${id} started`),
        onStoppedLeading: () => void events.push(`${id} stopped`),
      });
    const a = make('a');
    const b = make('b');
    a.start();
    await flush();
    clock.advance(0);
    await flush();
    b.start();
    let bothEver = false;
    const step = async (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        clock.advance(50);
        await flush();
        await flush();
        if (a.isLeader() && b.isLeader()) bothEver = true;
      }
    };
    await step(2000);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(api.lease()?.spec.holderIdentity).toBe('a');

    // a loses the API server: it stops leading once renewDeadline passes; b waits for the lease to expire.
    api.down.add('a');
    await step(2100);
    expect(a.isLeader()).toBe(false);
    await step(3000);
    expect(b.isLeader()).toBe(true);
    expect(api.lease()?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(bothEver).toBe(false);
    expect(events).toEqual(['a started', 'a stopped', 'b started']);

    // a comes back: it sees b's fresh lease and stays a standby.
    api.down.delete('a');
    await step(2000);
    expect(a.isLeader()).toBe(false);
    expect(a.currentLeader()).toBe('b');

    // b releases on graceful stop; a takes over without waiting for expiry.
    await b.stop();
    expect(api.lease()?.spec.holderIdentity).toBeUndefined();
    await step(400);
    expect(a.isLeader()).toBe(true);
    await a.stop();
  });
});
