import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import {
  KubeClients,
  LeaderElector,
  applyObject,
  createController,
  createInformer,
  createManager,
  mapToOwner,
  withOwner,
  type LeaseRecord,
} from '../../src/kube/index.js';

// Short, but with a wide margin between renew period and deadline so a busy CI machine does not flap.
const timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 250 };

async function readLease(clients: KubeClients, ns: string, name: string): Promise<LeaseRecord | undefined> {
  const lease = await clients.get<{ apiVersion: string; kind: string; spec?: LeaseRecord }>({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: ns,
    name,
  });
  return lease?.spec;
}

describe('leader election (real API server)', () => {
  it('two electors: exactly one leads; the other takes over after the leader stops renewing', async () => {
    const ns = await createTestNamespace('kube-lease');
    const clients = KubeClients.fromKubeConfig(adminKubeConfig());
    const started: string[] = [];
    const stopped: string[] = [];
    const make = (identity: string) =>
      new LeaderElector({
        clients,
        namespace: ns,
        name: 'paved',
        identity,
        ...timing,
        onStartedLeading: () => void started.push(identity),
        onStoppedLeading: () => void stopped.push(identity),
      });
    const a = make('replica-a');
    const b = make('replica-b');
    a.start();
    b.start();
    await eventually(() => expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1));
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
    const leaderId = leader === a ? 'replica-a' : 'replica-b';
    const standbyId = leader === a ? 'replica-b' : 'replica-a';
    expect((await readLease(clients, ns, 'paved'))?.holderIdentity).toBe(leaderId);

    // Over several renew periods, leadership stays put and never doubles.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 250));
      expect(leader.isLeader() && !standby.isLeader()).toBe(true);
    }
    expect(started).toEqual([leaderId]);

    // The leader dies without releasing (no renewals any more): the standby takes over after expiry.
    await leader.stop({ release: false });
    await eventually(() => expect(standby.isLeader()).toBe(true), { timeoutMs: 20_000 });
    const lease = await readLease(clients, ns, 'paved');
    expect(lease?.holderIdentity).toBe(standbyId);
    expect(lease?.leaseTransitions).toBe(1);
    expect(started).toEqual([leaderId, standbyId]);

    // Graceful stop releases the lease: the holder is cleared.
    await standby.stop();
    expect(standby.isLeader()).toBe(false);
    expect(stopped).toContain(standbyId);
    expect((await readLease(clients, ns, 'paved'))?.holderIdentity).toBeUndefined();
  });

  it('manager: only the leader reconciles; steady-state resyncs write nothing; a released lease hands over', async () => {
    const ns = await createTestNamespace('kube-manager');
    const leaseNs = await createTestNamespace('kube-manager-lease');
    const admin = KubeClients.fromKubeConfig(adminKubeConfig());
    const reconciles: Record<string, number> = { one: 0, two: 0 };

    // A toy controller: each ConfigMap labelled role=source gets an owned `<name>-copy` with the same data.
    const makeReplica = (id: 'one' | 'two') => {
      const clients = KubeClients.fromKubeConfig(adminKubeConfig());
      const informer = createInformer<V1ConfigMap>({ clients, apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, resyncPeriodMs: 400 });
      const ctrl = createController({
        name: `copy-${id}`,
        workers: 2,
        reconcile: async (key, ctx) => {
          reconciles[id] = (reconciles[id] ?? 0) + 1;
          const src = informer.get(key);
          if (!src || src.metadata?.labels?.role !== 'source') return;
          const copy = withOwner<V1ConfigMap>(
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${ctx.name}-copy`, namespace: ctx.namespace }, data: src.data ?? {} },
            src,
          );
          await applyObject(clients, copy, { current: informer.get(`${ctx.namespace}/${ctx.name}-copy`) ?? null });
        },
      });
      ctrl.watch(informer, (cm) => (cm.metadata?.labels?.role === 'source' ? [`${ns}/${cm.metadata.name}`] : []));
      ctrl.watch(informer, mapToOwner({ kind: 'ConfigMap', apiVersion: 'v1' }));
      const manager = createManager({
        leaderElection: { clients, namespace: leaseNs, name: 'copy', identity: id, ...timing },
        drainTimeoutMs: 5000,
      });
      manager.addInformer(informer);
      manager.addController(ctrl);
      return { clients, manager };
    };
    const one = makeReplica('one');
    const two = makeReplica('two');
    for (let i = 0; i < 3; i++) {
      await applyObject(admin, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `src${i}`, namespace: ns, labels: { role: 'source' } }, data: { i: String(i) } });
    }
    await Promise.all([one.manager.start(), two.manager.start()]);
    await eventually(() => expect([one.manager.isActive(), two.manager.isActive()].filter(Boolean)).toHaveLength(1));
    const [leader, standby] = one.manager.isActive() ? [one, two] : [two, one];
    const standbyId = standby === one ? 'one' : 'two';

    await eventually(async () => {
      for (let i = 0; i < 3; i++) {
        const copy = await admin.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: `src${i}-copy` });
        expect(copy?.data).toEqual({ i: String(i) });
      }
    });
    expect(reconciles[standbyId]).toBe(0);

    // Steady state: let several resyncs run (every key reconciled again) and count writes.
    await new Promise((r) => setTimeout(r, 500));
    leader.clients.counter.reset();
    const before = (reconciles.one ?? 0) + (reconciles.two ?? 0);
    await eventually(() => expect((reconciles.one ?? 0) + (reconciles.two ?? 0)).toBeGreaterThanOrEqual(before + 12));
    const writes = leader.clients.counter.snapshot();
    expect(leader.clients.counter.writes({ resource: 'configmaps' })).toBe(0);
    // The only writes left are lease renewals.
    expect(Object.keys(writes).filter((k) => k.startsWith('update') || k.startsWith('apply') || k.startsWith('patch') || k.startsWith('create'))).toEqual(
      Object.keys(writes).filter((k) => k === 'update leases.coordination.k8s.io'),
    );
    expect(reconciles[standbyId]).toBe(0);

    // A changed source is picked up by the leader.
    await applyObject(admin, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'src0', namespace: ns, labels: { role: 'source' } }, data: { i: 'changed' } });
    await eventually(async () => {
      const copy = await admin.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'src0-copy' });
      expect(copy?.data).toEqual({ i: 'changed' });
    });

    // Graceful shutdown of the leader releases the lease; the standby takes over and reconciles.
    await leader.manager.stop();
    expect(await leader.manager.done).toBe('stopped');
    await eventually(() => expect(standby.manager.isActive()).toBe(true), { timeoutMs: 20_000 });
    await eventually(() => expect(reconciles[standbyId]).toBeGreaterThan(0));
    await standby.manager.stop();
  });
});
