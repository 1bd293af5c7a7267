/**
 * The list tables of `get teams` and `get ws` (pure), kubectl-style: the columns of the CRDs'
 * printer columns plus the rollout position, with NAMESPACE first under -A.
 */
import type { Team } from '../../../api/index.js';
import { readRolloutState } from '../../../delivery/observe.js';
import type { WebService } from '../../../webservice/render/index.js';
import { formatAge, renderTable } from './table.js';

type Condition = { type?: string; status?: string; reason?: string };

function conditionStatus(conditions: readonly Condition[] | undefined, type: string): string | undefined {
  return conditions?.find((c) => c.type === type)?.status;
}

export function renderTeamTable(teams: readonly Team[], now: Date): string {
  if (teams.length === 0) return 'No resources found\n';
  const rows = [...teams]
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
    .map((t) => [
      t.metadata?.name,
      t.spec?.quota?.tier,
      t.spec?.costCenter,
      (t.status?.namespaces ?? []).map((n) => n.name).join(','),
      conditionStatus(t.status?.conditions as Condition[] | undefined, 'Ready'),
      formatAge(t.metadata?.creationTimestamp, now),
    ]);
  return renderTable(['name', 'tier', 'cost-center', 'namespaces', 'ready', 'age'], rows);
}

/** The rollout column: "Healthy", "Progressing 2/5 10%", "Paused 3/5 50% (Manual)". */
function rolloutCell(ws: WebService): string | undefined {
  const s = readRolloutState(ws);
  if (!s) return undefined;
  if (s.phase === 'Healthy') return 'Healthy';
  const step = s.stepCount ? `${Math.min(s.stepIndex + 1, s.stepCount)}/${s.stepCount}` : `${s.stepIndex + 1}`;
  const why = s.pauseReason ?? (s.phase === 'RolledBack' ? s.failure?.reason : undefined);
  return `${s.phase} ${step} ${s.weight}%${why ? ` (${why})` : ''}`;
}

export function renderWebServiceTable(items: readonly WebService[], now: Date, allNamespaces: boolean): string {
  if (items.length === 0) return 'No resources found\n';
  const sorted = [...items].sort(
    (a, b) => (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
  const rows = sorted.map((ws) => {
    const st = ws.status;
    const ready = st?.replicas !== undefined ? `${st.readyReplicas ?? 0}/${st.replicas}` : undefined;
    const row = [
      ws.metadata?.name,
      ws.spec?.image,
      ready,
      conditionStatus(st?.conditions, 'Available'),
      rolloutCell(ws),
      formatAge(ws.metadata?.creationTimestamp, now),
    ];
    return allNamespaces ? [ws.metadata?.namespace, ...row] : row;
  });
  const headers = ['name', 'image', 'ready', 'available', 'rollout', 'age'];
  return renderTable(allNamespaces ? ['namespace', ...headers] : headers, rows);
}
