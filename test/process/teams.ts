/**
 * Teams and the API server's audit log, for the tests that run paved as a separate process: create a
 * Team, wait for it to be Ready, compare the cluster with what tenancy renders, find who wrote what,
 * and clean up (through the running controller's finalizer, with a forced fallback).
 */
import { readFile } from 'node:fs/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { Team } from '../../src/api/index.js';
import { KubeClients, isSubset } from '../../src/kube/index.js';
import { renderTenancy } from '../../src/tenancy/render.js';
import { eventually } from '../support/eventually.js';

type AnyObj = KubernetesObject & Record<string, any>;

/** The platform settings main.ts runs with by default (PAVED_GATEWAY_NAMESPACE, PAVED_MONITORING_NAMESPACE). */
export const DEFAULT_PLATFORM = { gatewayNamespace: 'gateway-system', monitoringNamespace: 'monitoring' };

const TEAMS = '/apis/paved.dev/v1alpha1/teams';

/**
 * Controller processes of these tests run with PAVED_SELECTOR set to this label, and their Teams carry
 * it: they never touch the Teams and WebServices of test files running beside them, nor those theirs.
 */
export const PROCESS_SCOPE_LABEL = 'paved.dev/test-scope';
export const PROCESS_SCOPE_VALUE = 'controller-process';
export const PROCESS_SELECTOR = `${PROCESS_SCOPE_LABEL}=${PROCESS_SCOPE_VALUE}`;

/** Creates a Team (as `admin`), labelled for the controller processes. */
export async function createTeam(admin: KubeClients, name: string, spec: Partial<Team['spec']> = {}): Promise<Team> {
  return admin.request<Team>({
    method: 'POST',
    path: TEAMS,
    body: {
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'Team',
      metadata: { name, labels: { [PROCESS_SCOPE_LABEL]: PROCESS_SCOPE_VALUE } },
      spec: { owners: { groups: ['team-a'] }, costCenter: 'CC-9', quota: { tier: 'small' }, deletionPolicy: 'Delete', ...spec },
    },
  });
}

export async function getTeam(admin: KubeClients, name: string): Promise<Team | undefined> {
  return admin.get<Team>({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name });
}

export function condition(team: Team | undefined, type: string) {
  return team?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the Team is Ready for its current generation and, optionally, settled (Progressing False). */
export async function waitReady(admin: KubeClients, name: string, opts: { settled?: boolean; timeoutMs?: number } = {}): Promise<Team> {
  return eventually(
    async () => {
      const team = await getTeam(admin, name);
      expect(team?.status?.observedGeneration).toBe(team?.metadata?.generation);
      expect(condition(team, 'Ready')?.status, JSON.stringify(team?.status?.conditions)).toBe('True');
      if (opts.settled) expect(condition(team, 'Progressing')?.status).toBe('False');
      return team!;
    },
    { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 250 },
  );
}

/** Everything tenancy renders for the Team, in apply order per namespace. */
export function renderedObjects(team: Team): KubernetesObject[] {
  return renderTenancy(team, DEFAULT_PLATFORM).flatMap((ns) => [...ns.bootstrap, ...ns.objects]);
}

/** The Team's namespaces as rendered. */
export function renderedNamespaces(team: Team): string[] {
  return renderTenancy(team, DEFAULT_PLATFORM).map((ns) => ns.name);
}

/** Reads the live counterpart of each rendered object: `matching` carry every rendered field, `missing` do not exist. */
export async function compareWithCluster(
  admin: KubeClients,
  team: Team,
): Promise<{ total: number; matching: string[]; missing: string[]; different: string[] }> {
  const matching: string[] = [];
  const missing: string[] = [];
  const different: string[] = [];
  const objects = renderedObjects(team);
  // One at a time, each read retried: a reused keep-alive connection the server just closed fails a
  // read now and then ("Premature close"), which says nothing about the object.
  for (const obj of objects) {
    const ref = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
    const live = await eventually(
      () =>
        admin.get<AnyObj>({
          apiVersion: obj.apiVersion ?? '',
          kind: obj.kind ?? '',
          name: obj.metadata?.name ?? '',
          ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
        }),
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    if (!live) missing.push(ref);
    else if (isSubset(withoutStatus(obj), live)) matching.push(ref);
    else different.push(ref);
  }
  return { total: objects.length, matching: matching.sort(), missing: missing.sort(), different: different.sort() };
}

function withoutStatus(obj: KubernetesObject): KubernetesObject {
  const { status: _status, ...rest } = obj as AnyObj;
  return rest;
}

/**
 * Deletes Teams while a controller still runs (its finalizer deletes the namespaces) and waits until
 * they are gone. Whatever is left after `timeoutMs` (no controller running any more) is removed by force:
 * the finalizer is dropped and the namespaces are deleted directly.
 */
export async function removeTeams(admin: KubeClients, names: string[], timeoutMs = 120_000): Promise<void> {
  await Promise.all(names.map((name) => admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name }).catch(() => false)));
  await Promise.all(
    names.map(async (name) => {
      try {
        await eventually(async () => expect(await getTeam(admin, name)).toBeUndefined(), { timeoutMs, intervalMs: 500 });
      } catch {
        await forceRemoveTeam(admin, name);
      }
    }),
  );
}

/** Drops the Team's finalizers and deletes it and its namespaces, without a controller. */
export async function forceRemoveTeam(admin: KubeClients, name: string): Promise<void> {
  await admin
    .request({ method: 'PATCH', path: `${TEAMS}/${name}`, body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' })
    .catch(() => undefined);
  await admin.delete({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', name }).catch(() => false);
  const namespaces = await admin.list('v1', 'Namespace', { labelSelector: `paved.dev/team=${name}` }).catch(() => ({ items: [] }));
  await Promise.all(
    namespaces.items.map((ns) => admin.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.metadata?.name ?? '' }).catch(() => false)),
  );
}

/** One write as the API server's audit log records it (level Metadata, stage ResponseComplete). */
export interface AuditWrite {
  verb: string;
  user: string;
  impersonatedUser?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  code: number;
  at: number;
}

/** Every write recorded in the audit log so far (the local cluster's policy records writes only). */
export async function auditWrites(auditLog: string, mention?: string): Promise<AuditWrite[]> {
  const text = await readFile(auditLog, 'utf8');
  const out: AuditWrite[] = [];
  for (const line of text.split('\n')) {
    if (!line || (mention && !line.includes(mention))) continue;
    const e = JSON.parse(line) as AnyObj;
    if (e['stage'] !== 'ResponseComplete') continue;
    out.push({
      verb: e['verb'],
      user: e['user']?.username,
      ...(e['impersonatedUser']?.username ? { impersonatedUser: e['impersonatedUser'].username } : {}),
      resource: e['objectRef']?.resource,
      ...(e['objectRef']?.subresource ? { subresource: e['objectRef'].subresource } : {}),
      ...(e['objectRef']?.namespace ? { namespace: e['objectRef'].namespace } : {}),
      ...(e['objectRef']?.name ? { name: e['objectRef'].name } : {}),
      code: e['responseStatus']?.code ?? 0,
      at: Date.parse(e['requestReceivedTimestamp']),
    });
  }
  return out;
}

/**
 * The writes that concern one Team: the Team (and its status), its namespaces, anything inside them,
 * and Events about it (cluster-scoped objects' Events go to `default`, named `<team>.<random>`).
 */
export async function teamWrites(auditLog: string, team: string, namespaces: readonly string[]): Promise<AuditWrite[]> {
  const ns = new Set(namespaces);
  const writes = await auditWrites(auditLog, team);
  return writes.filter(
    (w) =>
      (w.resource === 'teams' && w.name === team) ||
      (w.resource === 'namespaces' && w.name !== undefined && ns.has(w.name)) ||
      (w.namespace !== undefined && ns.has(w.namespace)) ||
      (w.resource === 'events' && w.namespace === 'default' && (w.name ?? '').startsWith(`${team}.`)),
  );
}
