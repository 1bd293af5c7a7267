/** Team overview: the caller's teams, each with its services (live from the stream), violations and cost. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ConnectionState, Phase } from '../components.js';
import { useApp, useDebounced, useLive } from '../hooks.js';
import { canAct, imageTag, money } from '../model.js';
import { Link } from '../router.js';
import type { Budget, ServiceView, Team, Violation } from '../types.js';

let firstRenderMarked = false;

export function Overview(): JSX.Element {
  const { api } = useApp();
  const [teams, setTeams] = useState<Team[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ items: Team[] }>('/teams').then(
      (r) => setTeams(r.items),
      (e: Error) => setError(e.message),
    );
  }, [api]);
  if (error) return <p role="alert">Could not load your teams: {error}</p>;
  if (!teams) return <p>Loading your teams…</p>;
  if (teams.length === 0) return <p>You are not a member of any team.</p>;
  return (
    <div>
      <h1>Your teams</h1>
      {teams.map((t) => (
        <TeamCard key={t.name} team={t} />
      ))}
    </div>
  );
}

function TeamCard(props: { team: Team }): JSX.Element {
  const { api, caller } = useApp();
  const team = props.team.name;
  const live = useLive(team);
  const [violations, setViolations] = useState<Violation[]>([]);
  const [budget, setBudget] = useState<Budget | string | null>(null);
  const services = [...live.state.services.values()].sort((a, b) => a.key.localeCompare(b.key));
  // Violations live in the services' status: re-read them when the stream says something changed.
  useDebounced(() => {
    api.get<{ items: Violation[] }>(`/teams/${team}/violations`).then(
      (r) => setViolations(r.items),
      () => undefined,
    );
  }, [live.state.seq], 500);
  useEffect(() => {
    api.get<Budget>(`/cost/teams/${team}/budget`).then(setBudget, (e: Error) => setBudget(`cost unavailable: ${e.message}`));
  }, [api, team]);
  useEffect(() => {
    if (!firstRenderMarked && live.state.epoch !== null) {
      firstRenderMarked = true;
      performance.mark('paved:overview-rendered');
    }
  }, [live.state.epoch]);
  return (
    <section class="team" aria-labelledby={`team-${team}`} data-testid={`team-${team}`}>
      <h2 id={`team-${team}`}>{team}</h2>
      <ConnectionState connection={live.connection} lastMessageAt={live.lastMessageAt} label={`stream of ${team}`} />
      <BudgetLine budget={budget} />
      {canAct(caller, team) ? <Link href={`/new?team=${encodeURIComponent(team)}`} class="button">New service in {team}</Link> : null}
      <ServiceTable services={services} violations={violations} stale={live.connection !== 'live'} />
    </section>
  );
}

function BudgetLine(props: { budget: Budget | string | null }): JSX.Element {
  const b = props.budget;
  if (b === null) return <p>Cost: loading…</p>;
  if (typeof b === 'string') return <p class="muted">{b}</p>;
  const ratio = b.projectedRatio === null ? '' : ` (${Math.round(b.projectedRatio * 100)}% of budget projected)`;
  return (
    <p data-testid="budget">
      This month: <strong>{money(b.monthToDateCost, b.currency)}</strong> so far, budget {b.monthlyBudget === null ? 'none set' : money(b.monthlyBudget, b.currency)};
      burning {money(b.burnRatePerDay, b.currency)}/day, projected {money(b.projectedMonthEndCost, b.currency)} at month end{ratio}. Status: {b.status}
    </p>
  );
}

function ServiceTable(props: { services: ServiceView[]; violations: Violation[]; stale: boolean }): JSX.Element {
  if (props.services.length === 0) return <p>No services yet.</p>;
  return (
    <table class={props.stale ? 'stale' : ''} aria-busy={props.stale}>
      <caption class="sr-only">Services</caption>
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">Phase</th>
          <th scope="col">Version</th>
          <th scope="col">Canary weight</th>
          <th scope="col">Ready</th>
          <th scope="col">Violations</th>
        </tr>
      </thead>
      <tbody>
        {props.services.map((s) => {
          const v = props.violations.filter((x) => x.namespace === s.namespace && x.service === s.name).length;
          const ready = s.reality.readyPods.stable + s.reality.readyPods.canary;
          return (
            <tr key={s.key} data-testid={`row-${s.key}`}>
              <th scope="row">
                <Link href={`/services/${s.namespace}/${s.name}`}>{s.name}</Link> <span class="muted">{s.namespace}</span>
              </th>
              <td>
                <Phase phase={s.reality.phase} />
                {s.reality.converged ? null : <span class="muted"> (converging)</span>}
              </td>
              <td>{imageTag(s.intent.image)}</td>
              <td>{s.reality.routeWeights ? `${s.reality.routeWeights.canary}%` : '—'}</td>
              <td>
                {ready} / {s.intent.replicas.min ?? '—'}
              </td>
              <td>{v === 0 ? 'none' : `${v} violation${v > 1 ? 's' : ''}`}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
