/**
 * Two paved processes (main.ts, each as its own ServiceAccount with the shipped RBAC, on one Lease in
 * this test's namespace): exactly one leads and only it writes; when it is SIGKILLed the other takes
 * over within the lease duration and provisions what comes next.
 *
 * Each process has its own identity so that the API server's audit log can tell their writes apart.
 * The takeover time (from the SIGKILL to the standby's 'started leading') is printed as a figure, not
 * asserted: the assertion is that the takeover happens.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig, clusterInfo, createTestNamespace } from '../support/cluster.js';
import { exclusiveControllerRun, metricValue, startControllerProcess, type ControllerProcess } from '../support/controller-process.js';
import { eventually } from '../support/eventually.js';
import { installControllerIdentities, type ControllerIdentity, type InstalledIdentities } from '../deploy/manifests.js';
import { auditWrites, createTeam, removeTeams, renderedNamespaces, teamWrites, waitReady } from './teams.js';

const run = randomBytes(3).toString('hex');
let release: (() => Promise<void>) | undefined;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const LEASE_SECONDS = 4;
const teams: string[] = [];
let namespace: string;
let installed: InstalledIdentities | undefined;
const processes: ControllerProcess[] = [];
const identityOf = new Map<ControllerProcess, ControllerIdentity>();

async function leaseHolder(): Promise<string | undefined> {
  const lease = await admin.get<Record<string, any>>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name: 'paved-controller' });
  return lease?.['spec']?.holderIdentity || undefined;
}

beforeAll(async () => {
  // One test file with controller processes at a time: main.ts reconciles every Team in the cluster.
  release = await exclusiveControllerRun(admin, `leader-${run}`);
  namespace = await createTestNamespace('paved-leader');
  installed = await installControllerIdentities(admin, { namespace, suffix: run, serviceAccounts: ['paved-a', 'paved-b'] });
  for (const id of installed.identities) {
    const p = startControllerProcess({
      kubeconfigPath: id.kubeconfigPath,
      podName: `${id.serviceAccount}-${run}`,
      leaseNamespace: namespace,
      leaseDurationSeconds: LEASE_SECONDS,
    });
    processes.push(p);
    identityOf.set(p, id);
  }
  await Promise.all(processes.map((p) => p.waitForLog('controllers started', 120_000)));
});

afterAll(async () => {
  const anyRunning = processes.some((p) => p.isRunning());
  await removeTeams(admin, teams, anyRunning ? 120_000 : 1);
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await installed?.remove();
  await release?.();
});

describe('two paved processes on one Lease', () => {
  let leader: ControllerProcess;
  let standby: ControllerProcess;

  it('elects exactly one leader, and only the leader writes', async () => {
    await eventually(() => expect(processes.filter((p) => p.hasLogged('started leading'))).toHaveLength(1), { timeoutMs: 60_000 });
    leader = processes.find((p) => p.hasLogged('started leading'))!;
    standby = processes.find((p) => p !== leader)!;
    expect(await leaseHolder()).toBe(leader.podName);

    const name = `lead-${run}`;
    teams.push(name);
    await createTeam(admin, name, { environments: ['dev', 'prod'] });
    const team = await waitReady(admin, name, { settled: true });

    // Two lease durations later (the standby retries every duration/7) it still has not led, holds
    // nothing and reconciled nothing.
    await new Promise((r) => setTimeout(r, 2 * LEASE_SECONDS * 1000));
    expect(standby.hasLogged('started leading')).toBe(false);
    expect(await leaseHolder()).toBe(leader.podName);
    const standbyMetrics = await standby.metrics();
    expect(metricValue(standbyMetrics, 'paved_leader')).toBe(0);
    expect(metricValue(standbyMetrics, 'paved_reconcile_total')).toBe(0);
    expect(metricValue(await leader.metrics(), 'paved_reconcile_total')).toBeGreaterThan(0);

    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider !== 'local' || !auditLog) return;
    const leaderUser = identityOf.get(leader)!.username;
    const standbyUser = identityOf.get(standby)!.username;
    const writes = await teamWrites(auditLog, name, renderedNamespaces(team));
    const byControllers = writes.filter((w) => w.user === leaderUser || w.user === standbyUser);
    expect(byControllers.length).toBeGreaterThan(0);
    expect(byControllers.filter((w) => w.user !== leaderUser)).toEqual([]);
    // No successful write at all by the standby but its start-up install of the CRDs (main.ts does it
    // before the election); a losing attempt to create the Lease is refused (409) and is no write.
    const standbyWrites = (await auditWrites(auditLog, standbyUser)).filter((w) => w.user === standbyUser && w.code < 300);
    expect(standbyWrites.filter((w) => w.resource !== 'customresourcedefinitions')).toEqual([]);
  });

  it('hands over to the standby when the leader is SIGKILLed, within the lease duration', async () => {
    const killedAt = Date.now();
    const exit = await leader.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    // The standby takes over (waited on generously; the figure below is what it took).
    const started = await standby.waitForLog('started leading', 60_000);
    const takeoverMs = started.time - killedAt;
    process.stderr.write(
      `[figure] leader SIGKILLed -> standby leading: ${takeoverMs} ms (lease duration ${LEASE_SECONDS * 1000} ms, ` +
        `retry period ${Math.max(200, Math.round((LEASE_SECONDS * 1000) / 7))} ms)\n`,
    );
    expect(await leaseHolder()).toBe(standby.podName);

    // The new leader does the work: a Team created now is provisioned, by its identity only.
    const name = `next-${run}`;
    teams.push(name);
    await createTeam(admin, name, { environments: ['dev'] });
    const team = await waitReady(admin, name, { settled: true });
    expect(metricValue(await standby.metrics(), 'paved_leader')).toBe(1);
    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider !== 'local' || !auditLog) return;
    const standbyUser = identityOf.get(standby)!.username;
    const leaderUser = identityOf.get(leader)!.username;
    const writes = (await teamWrites(auditLog, name, renderedNamespaces(team))).filter((w) => w.user === standbyUser || w.user === leaderUser);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((w) => w.user !== standbyUser)).toEqual([]);
  });
});
