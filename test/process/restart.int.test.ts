/**
 * A paved process SIGKILLed half-way through provisioning a Team with several environments: a new
 * process converges the Team (every rendered object present and correct, Ready), and then its periodic
 * resyncs make zero writes to anything of that Team.
 *
 * "Half-way" is made deterministic, not timed: an admission policy of this test refuses the Team's
 * NetworkPolicies, so the process provisions every namespace up to its LimitRange and keeps retrying the
 * rest; it is SIGKILLed there, the hold is lifted, and a new process must finish the job. (Killing on a
 * watch event races the controller, which writes the 84 objects of this Team in well under a second.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig, clusterInfo, createTestNamespace } from '../support/cluster.js';
import { exclusiveControllerRun, startControllerProcess, type ControllerProcess } from '../support/controller-process.js';
import { eventually } from '../support/eventually.js';
import { applyDoc, installControllerIdentities, statusOf, type InstalledIdentities } from '../deploy/manifests.js';
import { renderTenancy } from '../../src/tenancy/render.js';
import { DEFAULT_PLATFORM, compareWithCluster, condition, createTeam, getTeam, removeTeams, renderedNamespaces, teamWrites, waitReady } from './teams.js';

const run = randomBytes(3).toString('hex');
let release: (() => Promise<void>) | undefined;
const kc = adminKubeConfig();
const admin = KubeClients.fromKubeConfig(kc);
const RESYNC_SECONDS = 2;
const teams: string[] = [];
let namespace: string;
let installed: InstalledIdentities | undefined;
const processes: ControllerProcess[] = [];

function start(podName: string): ControllerProcess {
  const p = startControllerProcess({
    kubeconfigPath: installed!.identities[0]!.kubeconfigPath,
    podName,
    leaseNamespace: namespace,
    leaseDurationSeconds: 4,
    env: { PAVED_RESYNC_SECONDS: String(RESYNC_SECONDS) },
  });
  processes.push(p);
  return p;
}

/**
 * A ValidatingAdmissionPolicy that refuses creating NetworkPolicies in the Team's namespaces (by their
 * `paved.dev/team` label), active once a probe in a namespace it also matches is refused.
 */
async function holdNetworkPolicies(team: string): Promise<{ lift(): Promise<void> }> {
  const policyName = `paved-test-hold-${run}`;
  // The probe namespace names a Team that does not exist (and is not managed-by paved), so no
  // controller adopts, removes or orphans it.
  const probeTeam = `${team}-probe`;
  const probeNs = await createTestNamespace('paved-hold', { 'paved.dev/team': probeTeam });
  const policy = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: policyName },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE'], resources: ['networkpolicies'] }],
      },
      validations: [{ expression: 'false', message: 'held by the restart test' }],
    },
  };
  const binding = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: policyName },
    spec: {
      policyName,
      validationActions: ['Deny'],
      matchResources: {
        namespaceSelector: {
          matchExpressions: [
            { key: 'paved.dev/team', operator: 'In', values: [team, probeTeam] },
          ],
        },
      },
    },
  };
  await applyDoc(admin, policy);
  await applyDoc(admin, binding);
  const probe = () =>
    statusOf(
      admin.request({
        method: 'POST',
        path: `/apis/networking.k8s.io/v1/namespaces/${probeNs}/networkpolicies`,
        query: { dryRun: 'All' },
        body: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'probe' }, spec: { podSelector: {} } },
      }),
    );
  await eventually(async () => expect(await probe()).not.toBe(200), { timeoutMs: 30_000 });
  return {
    async lift() {
      await admin.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', name: policyName }).catch(() => false);
      await admin.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', name: policyName }).catch(() => false);
      await eventually(async () => expect(await probe()).toBe(200), { timeoutMs: 30_000 });
    },
  };
}

beforeAll(async () => {
  // One test file with controller processes at a time: main.ts reconciles every Team in the cluster.
  release = await exclusiveControllerRun(admin, `restart-${run}`);
  namespace = await createTestNamespace('paved-restart');
  installed = await installControllerIdentities(admin, { namespace, suffix: run });
});

afterAll(async () => {
  const anyRunning = processes.some((p) => p.isRunning());
  await removeTeams(admin, teams, anyRunning ? 120_000 : 1);
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await installed?.remove();
  await release?.();
});

describe('a paved process killed half-way through provisioning', () => {
  it('converges after a restart, then resyncs without writing', async () => {
    const first = start(`paved-first-${run}`);
    await first.waitForLog('started leading', 120_000);

    const name = `crash-${run}`;
    const environments = ['dev', 'test', 'qa', 'stage', 'perf', 'prod'];
    // Hold provisioning half-way: the Team's NetworkPolicies are refused until the hold is lifted.
    const hold = await holdNetworkPolicies(name);
    try {
      teams.push(name);
      await createTeam(admin, name, { environments });
      // Every namespace got as far as its LimitRange (the object before the NetworkPolicies), and no further.
      await eventually(async () => {
        for (const env of environments) {
          expect(await admin.get({ apiVersion: 'v1', kind: 'LimitRange', namespace: `${name}-${env}`, name: 'paved-limits' })).toBeDefined();
        }
      }, { timeoutMs: 60_000 });
      const exit = await first.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');

      // It was half-way (read while the hold still freezes the Team, whoever else reconciles it): exactly
      // what comes after the LimitRange in each namespace is missing, and the Team is not Ready.
      const created = await getTeam(admin, name);
      const partial = await compareWithCluster(admin, created!);
      process.stderr.write(`[figure] at the SIGKILL: ${partial.total - partial.missing.length} of ${partial.total} objects existed\n`);
      const afterLimits = renderTenancy(created!, DEFAULT_PLATFORM).flatMap((ns) =>
        ns.objects.slice(ns.objects.findIndex((o) => o.kind === 'LimitRange') + 1).map((o) => `${o.kind} ${ns.name}/${o.metadata?.name}`),
      );
      expect(partial.missing).toEqual(afterLimits.sort());
      expect(partial.total - partial.missing.length).toBeGreaterThan(0);
      expect(condition(created, 'Ready')?.status).not.toBe('True');
    } finally {
      await hold.lift();
    }

    // A new process (it takes the Lease once the dead leader's expires) finishes the job.
    const second = start(`paved-second-${run}`);
    const leading = await second.waitForLog('started leading', 120_000);
    const team = await waitReady(admin, name, { settled: true });
    const converged = await compareWithCluster(admin, team);
    expect(converged.missing).toEqual([]);
    expect(converged.different).toEqual([]);
    expect(converged.matching).toHaveLength(converged.total);
    expect(team.status?.namespaces?.map((n) => n.name).sort()).toEqual(renderedNamespaces(team).sort());
    expect(condition(team, 'Degraded')?.status).not.toBe('True');

    // Steady state: several resyncs of this Team, and no write to anything of it in the meantime.
    const auditLog = clusterInfo().auditLog;
    if (clusterInfo().provider !== 'local' || !auditLog) return;
    const namespaces = renderedNamespaces(team);
    // The missing objects were written after the restart, by the controller's identity.
    const finishing = (await teamWrites(auditLog, name, namespaces)).filter(
      (w) => w.at >= leading.time - 1000 && w.user === installed!.identities[0]!.username && w.code < 300 && w.resource === 'networkpolicies',
    );
    expect(finishing.length).toBeGreaterThanOrEqual(environments.length * 5);
    // Let in-flight work of the convergence land in the audit log before the window opens.
    await eventually(async () => {
      const last = Math.max(0, ...(await teamWrites(auditLog, name, namespaces)).map((w) => w.at));
      expect(Date.now() - last).toBeGreaterThan(1000);
    }, { timeoutMs: 30_000 });
    const windowStart = Date.now();
    const reconcilesOf = () => second.logs.filter((l) => l.msg === 'reconcile finished' && l['name'] === name && l.time > windowStart);
    // At least three reconciles of this Team over at least two resync periods.
    await eventually(() => {
      expect(reconcilesOf().length).toBeGreaterThanOrEqual(3);
      expect(Date.now() - windowStart).toBeGreaterThanOrEqual(2 * RESYNC_SECONDS * 1000);
    }, { timeoutMs: 30_000 });
    const windowEnd = Date.now();
    const inWindow = (await teamWrites(auditLog, name, namespaces)).filter((w) => w.at >= windowStart && w.at <= windowEnd);
    expect(reconcilesOf().every((l) => l['result'] !== 'error')).toBe(true);
    expect(inWindow).toEqual([]);
    process.stderr.write(`[figure] steady state: ${reconcilesOf().length} reconciles of ${name} in ${windowEnd - windowStart} ms, ${inWindow.length} writes\n`);
  });
});
