/**
 * The cost endpoints answer from paved's recording rules in a real Prometheus, and give the same
 * figures as the raw queries on the same exporter-shaped history (test/cost/shape-history.ts: short
 * pods, a finished Job still listed, a restart, a namespace changing team mid-hour, a service
 * relabelled). The rules file shipped in deploy/prometheus is loaded by Prometheus itself; what the rules
 * would have recorded over the (past) history is backfilled by evaluating the rules' own expressions at
 * the instants Prometheus would (5 minutes after each hour): the per-service series over the whole
 * history, the per-team ones (read from those) over its last day only, as if they had been added later.
 * The by-team reports read the per-team series where they cover the window, else the per-service
 * ones, else the raw queries, and say which.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCostPrometheus } from '../../src/cost/prometheus.js';
import { RECORDED_SERIES, RECORDING_INTERVAL_SECONDS, TEAM_RECORDED_SERIES } from '../../src/cost/queries.js';
import { createCostService, type CostService } from '../../src/cost/service.js';
import { staticTeamDirectory } from '../../src/cost/teams.js';
import { renderRuleGroups, type RecordingRule } from '../../src/monitoring/rules.js';
import { costHistoryOpenMetrics } from '../support/cost-history.js';
import { eventually } from '../support/eventually.js';
import { startPrometheus, type LocalPrometheus } from '../support/prometheus.js';
import { DAY_START, END, TEAMS, history } from './shape-history.js';

const HOUR = 3600;
const RULES_FILE = fileURLToPath(new URL('../../deploy/prometheus/paved.rules.yaml', import.meta.url));
const NOW = new Date((END + 25 * 60) * 1000);
const DAY = { start: new Date(DAY_START * 1000).toISOString(), end: new Date(END * 1000).toISOString(), step: '1h' };

let prom: LocalPrometheus;
let recorded: CostService;
let raw: CostService;

beforeAll(async () => {
  prom = await startPrometheus({ backfillOpenMetrics: costHistoryOpenMetrics(history), ruleFiles: [RULES_FILE] });
  const rules = renderRuleGroups()
    .filter((g) => g.name === 'paved-cost-hourly')
    .flatMap((g) => g.rules)
    .filter((r): r is RecordingRule => 'record' in r);
  const teamSeries = new Set(Object.values(TEAM_RECORDED_SERIES));
  const end = END + RECORDING_INTERVAL_SECONDS;
  await prom.backfillRecordingRules(
    rules.filter((r) => !teamSeries.has(r.record)),
    { start: history.startSeconds + HOUR + RECORDING_INTERVAL_SECONDS, end, step: HOUR },
  );
  await prom.backfillRecordingRules(
    rules.filter((r) => teamSeries.has(r.record)),
    { start: DAY_START + HOUR + RECORDING_INTERVAL_SECONDS, end, step: HOUR },
  );
  const teams = staticTeamDirectory(TEAMS.map((name) => ({ name })));
  const prometheus = createCostPrometheus({ url: prom.url });
  recorded = createCostService({ prometheus, teams, now: () => NOW });
  raw = createCostService({ prometheus, teams, now: () => NOW, costSource: 'raw' });
});

/** Every numeric field of two report fragments equal (relative 1e-9: the sums run in another order). */
function expectSameFigures(a: unknown, b: unknown, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    expect(Math.abs(a - b), `${path}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length, `${path}.length`).toBe(b.length);
    a.forEach((x, i) => expectSameFigures(x, b[i], `${path}[${i}]`));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const figure = (k: string) => k !== 'queries' && k !== 'costSource' && k !== 'recordedLevel';
    const ka = Object.keys(a).filter(figure);
    expect(ka.sort(), path).toEqual(Object.keys(b).filter(figure).sort());
    for (const k of ka) expectSameFigures((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect(a, path).toEqual(b);
}

describe('the shipped recording rules in a real Prometheus', () => {
  it('loads every group of deploy/prometheus/paved.rules.yaml and evaluates its rules without error', async () => {
    await eventually(async () => {
      const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as {
        data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
      };
      expect(body.data.groups.map((g) => g.name).sort()).toEqual(renderRuleGroups().map((g) => g.name).sort());
      const rules = body.data.groups.flatMap((g) => g.rules);
      expect(rules.length).toBe(renderRuleGroups().flatMap((g) => g.rules).length);
      // Groups with a 5-minute interval may not have run yet ('unknown'); none may have failed, and the
      // alerts (the global 1 s interval) must have been evaluated.
      expect(rules.filter((r) => r.health === 'err').map((r) => `${r.name}: ${r.lastError ?? ''}`)).toEqual([]);
      const alerts = body.data.groups.find((g) => g.name === 'paved-alerts')?.rules ?? [];
      expect(alerts.map((r) => r.health)).toEqual(alerts.map(() => 'ok'));
    }, { timeoutMs: 60_000 });
  });

  it('all teams, per hour: the per-team recorded answer equals the raw one, and each says where it came from', async () => {
    const fromRules = await recorded.allTeams(DAY);
    const fromRaw = await raw.allTeams(DAY);
    expect(fromRules).toMatchObject({ costSource: 'recorded', recordedLevel: 'team' });
    expect(fromRaw).toMatchObject({ costSource: 'raw', recordedLevel: null });
    for (const q of Object.values(fromRules.queries)) expect(Object.values(TEAM_RECORDED_SERIES).some((name) => q.includes(name)), q).toBe(true);
    expect(fromRaw.queries.cpuAllocated).not.toContain(RECORDED_SERIES.cpuAllocated);
    expect(fromRaw.queries.cpuAllocated).not.toContain(TEAM_RECORDED_SERIES.cpuAllocated);
    expect(fromRules.teams.map((t) => t.team)).toEqual(TEAMS);
    // The history has cost: the comparison is not of zeros.
    expect(fromRaw.totals.totalCost).toBeGreaterThan(0);
    expectSameFigures(fromRules, fromRaw);
  });

  it('one team by service and a whole-day bucket: the same figures from both', async () => {
    for (const team of ['shape-a', 'shape-b']) {
      const fromRules = await recorded.team(team, DAY);
      const fromRaw = await raw.team(team, DAY);
      expect(fromRules).toMatchObject({ costSource: 'recorded', recordedLevel: 'service' });
      expect(fromRules.byService.length).toBeGreaterThan(1);
      expectSameFigures(fromRules, fromRaw);
      const daily = { ...DAY, step: '1d' };
      expectSameFigures(await recorded.team(team, daily), await raw.team(team, daily));
    }
    const idle = await recorded.idle(undefined, { start: DAY.start, end: DAY.end });
    expect(idle.costSource).toBe('recorded');
    expectSameFigures(idle, await raw.idle(undefined, { start: DAY.start, end: DAY.end }));
  });

  it('all teams over a window the per-team series do not cover: the per-service series answer, the same figures', async () => {
    const longer = { ...DAY, start: new Date((DAY_START - 12 * HOUR) * 1000).toISOString() };
    const fromRules = await recorded.allTeams(longer);
    expect(fromRules).toMatchObject({ costSource: 'recorded', recordedLevel: 'service' });
    expect(fromRules.queries.cpuAllocated).toContain(RECORDED_SERIES.cpuAllocated);
    const fromRaw = await raw.allTeams(longer);
    expect(fromRaw.totals.totalCost).toBeGreaterThan(0);
    expectSameFigures(fromRules, fromRaw);
  });

  it('falls back to the raw queries where the recorded series do not cover the window, and says so', async () => {
    // The budget reads from the start of the month: weeks before the recorded history.
    const budget = await recorded.budget('shape-a');
    expect(budget).toMatchObject({ costSource: 'raw', recordedLevel: null });
    expect(budget.queries.cpuAllocated).not.toContain(RECORDED_SERIES.cpuAllocated);
    // A window ending after the last recorded hour.
    const later = { start: DAY.start, end: new Date((END + 2 * HOUR) * 1000).toISOString(), step: '1h' };
    const service = createCostService({
      prometheus: createCostPrometheus({ url: prom.url }),
      teams: staticTeamDirectory(TEAMS.map((name) => ({ name }))),
      now: () => new Date((END + 3 * HOUR) * 1000),
    });
    expect((await service.allTeams(later)).costSource).toBe('raw');
  });
});
