/**
 * The `recommendations TEAM` view (pure): the team's projected monthly savings and, per service and
 * container, the state, current -> recommended requests and stable days. Figures are the API's
 * (GET /api/v1/teams/{team}/recommendations, src/rightsizing/routes.ts), formatted only.
 */
import type { TeamRecommendations } from '../../../rightsizing/routes.js';
import { plain, type Colors } from './colors.js';
import { renderTable } from './table.js';

/** `current -> recommended`; `(kept)` when this resource is not recommended (an HPA on CPU); `(no data yet)` without a recommendation. */
const arrow = (cur: string | undefined, rec: { cpu?: string; memory?: string } | null, key: 'cpu' | 'memory'): string =>
  rec === null ? `${cur ?? '-'} (no data yet)` : rec[key] === undefined ? `${cur ?? '-'} (kept)` : `${cur ?? '-'} -> ${rec[key]}`;

export function renderRecommendations(r: TeamRecommendations, c: Colors = plain): string {
  const lines = [`Team:              ${r.team}`, `Projected savings: ${r.projectedMonthlySavings.toFixed(2)} ${r.currency}/month (${r.services.length} services)`];
  if (r.services.length === 0) return [...lines, '', 'No recommendations (no WebService of this team has spec.rightsizing.mode recommend or auto).'].join('\n') + '\n';
  const state = (s: string): string => (s === 'RolledBack' || s === 'HeldBack' ? c.yellow(s) : s === 'Applied' ? c.green(s) : s);
  const rows = r.services.flatMap((s) =>
    (s.containers.length ? s.containers : [{ name: '-', current: {}, recommended: null, notes: [] }]).map((k) => [
      s.namespace,
      s.webService,
      k.name,
      state(s.state),
      arrow(k.current.cpu, k.recommended, 'cpu'),
      arrow(k.current.memory, k.recommended, 'memory'),
      s.stableDays === null ? '-' : String(s.stableDays),
      s.projectedMonthlySavings.toFixed(2),
    ]),
  );
  lines.push('', ...renderTable(['namespace', 'service', 'container', 'state', 'cpu', 'memory', 'stable days', 'savings/month'], rows).trimEnd().split('\n'));
  const reasons = r.services.filter((s) => s.message).map((s) => `  ${s.namespace}/${s.webService}: ${s.reason}: ${s.message}`);
  if (reasons.length) lines.push('', c.bold('Why:'), ...reasons);
  return lines.join('\n') + '\n';
}
