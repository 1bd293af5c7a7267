/**
 * Pod Security Admission on team namespaces, on the real API server: the tenancy controller labels
 * every team namespace enforce/audit/warn=restricted, and the API server itself then refuses a pod
 * outside the restricted profile, whoever sends it (here the cluster admin, so not RBAC), naming
 * the offending fields, while a restricted pod is accepted.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Team } from '../../src/api/index.js';
import { KubeClients, toKubeApiError } from '../../src/kube/index.js';
import { startTenancyController, type RunningTenancyController } from '../../src/tenancy/controller.js';
import { adminKubeConfig } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const API = 'paved.dev/v1alpha1';
const prefix = `ps${randomBytes(2).toString('hex')}`;
const team = `${prefix}-web`;
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
let tc: RunningTenancyController | undefined;

function pod(name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: team },
    spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1.0.0', ...container }], ...spec },
  } as KubernetesObject;
}

const restricted = {
  securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
};

beforeAll(async () => {
  tc = await startTenancyController({
    clients: KubeClients.fromKubeConfig(adminKubeConfig()),
    config: { PAVED_GATEWAY_NAMESPACE: 'gateway-system', PAVED_MONITORING_NAMESPACE: 'monitoring', PAVED_ORPHAN_GRACE_SECONDS: 600, PAVED_RESYNC_SECONDS: 600, PAVED_WORKERS: 2 },
    ownsTeam: (n) => n.startsWith(`${prefix}-`),
  });
  await admin.request({
    method: 'POST',
    path: `/apis/${API}/teams`,
    body: { apiVersion: API, kind: 'Team', metadata: { name: team }, spec: { owners: { groups: ['team-a'] }, costCenter: 'cc-1', quota: { tier: 'small' }, deletionPolicy: 'Delete' } },
  });
  await eventually(async () => {
    const t = await admin.get<Team>({ apiVersion: API, kind: 'Team', name: team });
    expect(t?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  }, { timeoutMs: 90_000 });
});

afterAll(async () => {
  await admin.delete({ apiVersion: API, kind: 'Team', name: team }).catch(() => undefined);
  await eventually(async () => expect(await admin.get({ apiVersion: API, kind: 'Team', name: team })).toBeUndefined(), { timeoutMs: 120_000 }).catch(() => undefined);
  await tc?.stop();
});

describe('team namespaces enforce the restricted Pod Security profile', () => {
  it('are labelled enforce, audit and warn = restricted by the tenancy controller', async () => {
    const ns = await admin.get<KubernetesObject>({ apiVersion: 'v1', kind: 'Namespace', name: team });
    expect(ns?.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
  });

  it('the API server refuses a non-restricted pod there, naming what breaks the profile, and accepts a restricted one', async () => {
    const path = `/api/v1/namespaces/${team}/pods`;
    const hostile = pod('escape', { securityContext: { privileged: true, seLinuxOptions: { type: 'spc_t' } } }, { hostNetwork: true, priorityClassName: undefined });
    const err = await admin.request({ method: 'POST', path, query: { dryRun: 'All' }, body: hostile }).catch((e: unknown) => e);
    const kube = toKubeApiError(err);
    expect(kube?.statusCode).toBe(403);
    expect(kube?.message).toContain('violates PodSecurity "restricted:latest"');
    expect(kube?.message).toContain('privileged');
    expect(kube?.message).toContain('hostNetwork');
    expect(kube?.message).toContain('seLinuxOptions');
    const ok = await admin.request<KubernetesObject>({ method: 'POST', path, query: { dryRun: 'All' }, body: pod('fine', restricted) });
    expect(ok.metadata?.name).toBe('fine');
  });
});
