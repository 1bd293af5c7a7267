/**
 * The cost service: turns a validated request into PromQL (one query per metric, aggregated on the
 * Prometheus side), runs the queries side by side, and prices the result with the pure model.
 * Used by the HTTP routes and by the budget loop. "Now" is injected.
 */
import { DateTime } from 'luxon';
import { CostInputError, CostQueryError, TeamNotFoundError } from './errors.js';
import {
  addQuantities,
  assessBurn,
  assessIdle,
  assessTrend,
  costPerDeployment,
  priceQuantities,
  sumQuantities,
  totalCost,
  zeroQuantities,
  type BudgetThresholds,
  type BurnAssessment,
  type CostLine,
  type Quantities,
  type Trend,
} from './model.js';
import { DEFAULT_PRICING, type Pricing } from './pricing.js';
import type { CostPrometheus } from './prometheus.js';
import { formatPromDuration } from '../kube/duration.js';
import {
  COST_METRICS,
  costRangeQuery,
  recordedCoverageQuery,
  recordedRangeQuery,
  rolloutsQuery,
  teamLevelScope,
  type CostMetric,
  type CostSource,
  type GroupLabel,
  type QueryScope,
  type RecordedLevel,
} from './queries.js';
import type { TeamDirectory, TeamInfo } from './teams.js';
import {
  bucketEnds,
  lastWholeHour,
  parseDurationParam,
  resolveWindow,
  RESOLUTION_SECONDS,
  windowSeconds,
  type CostWindow,
  type WindowInput,
} from './window.js';

export interface CostServiceDeps {
  readonly prometheus: CostPrometheus;
  readonly teams: TeamDirectory;
  readonly pricing?: Pricing;
  /** The clock; tests pass the end of their backfilled history. */
  readonly now?: () => Date;
  /** Counter of rollouts started, labelled by namespace (see docs/cost.md). */
  readonly rolloutsMetric?: string;
  /**
   * `auto` (default): the recorded series when they cover the window (per team where the report
   * allows, else per service), else the raw queries; `raw`: always the raw queries; `service`: never
   * the per-team series (tests compare the sources, the benchmark times each).
   */
  readonly costSource?: 'auto' | 'raw' | 'service';
}

/** A window as the API shows it. */
export interface WindowView {
  start: string;
  end: string;
  step: string;
}

export interface BucketLine extends CostLine {
  start: string;
  end: string;
}

export interface TeamCost {
  team: string;
  totals: CostLine;
  series: BucketLine[];
}

export interface AllTeamsReport {
  window: WindowView;
  currency: string;
  totals: CostLine;
  teams: TeamCost[];
  /** The PromQL each figure came from (query_range start=window.start+step, end, step). */
  queries: Partial<Record<CostMetric, string>>;
  /** Whether those queries read the recorded series or the raw exporter series. */
  costSource: CostSource;
  /** Which recorded series: per team or per service (null with the raw queries). */
  recordedLevel: RecordedLevel | null;
}

export interface ServiceCost {
  environment: string;
  namespace: string;
  service: string;
  totals: CostLine;
  series: BucketLine[];
}

export interface TeamReport {
  team: string;
  window: WindowView;
  currency: string;
  totals: CostLine;
  series: BucketLine[];
  byEnvironment: Array<{ environment: string; totals: CostLine }>;
  byService: ServiceCost[];
  byResource: {
    cpu: { coreHours: number; requestedCoreHours: number; usedCoreHours: number; cost: number; efficiency: number | null };
    memory: { gibHours: number; requestedGiBHours: number; usedGiBHours: number; cost: number; efficiency: number | null };
    storage: { gibHours: number; cost: number };
  };
  queries: Partial<Record<CostMetric, string>>;
  costSource: CostSource;
  recordedLevel: RecordedLevel | null;
}

export interface BudgetReport extends BurnAssessment {
  team: string;
  currency: string;
  asOf: string;
  last7DaysCost: number;
  thresholds: BudgetThresholds;
  /** PromQL per metric, run hourly (step 1h) from the earlier of month start and 7 days ago. */
  queries: Partial<Record<CostMetric, string>>;
  costSource: CostSource;
  recordedLevel: RecordedLevel | null;
}

export interface TrendReport {
  team: string;
  currency: string;
  period: string;
  current: { start: string; end: string; totals: CostLine };
  previous: { start: string; end: string; totals: CostLine };
  total: Trend;
  cpu: Trend;
  memory: Trend;
  storage: Trend;
  queries: Partial<Record<CostMetric, string>>;
  costSource: CostSource;
  recordedLevel: RecordedLevel | null;
}

export interface IdleService {
  team: string;
  environment: string;
  namespace: string;
  service: string;
  cpuRequestedCoreHours: number;
  cpuUsedCoreHours: number;
  cpuUtilisation: number | null;
  memoryRequestedGiBHours: number;
  memoryUsedGiBHours: number;
  cost: number;
  costAtUsage: number;
  /** Savings over the window if requests were set at usage. */
  savings: number;
  /** The same savings scaled to 30 days. */
  monthlySavings: number;
}

export interface IdleReport {
  window: WindowView;
  currency: string;
  threshold: number;
  servicesExamined: number;
  idle: IdleService[];
  totalSavings: number;
  queries: Partial<Record<CostMetric, string>>;
  costSource: CostSource;
  recordedLevel: RecordedLevel | null;
}

export interface DeploymentCostReport {
  team: string;
  window: WindowView;
  currency: string;
  cost: number;
  rollouts: number;
  costPerDeployment: number | null;
  source: string;
}

const COST_ONLY: readonly CostMetric[] = ['cpuAllocated', 'memoryAllocated', 'storage'];
const IDLE_METRICS: readonly CostMetric[] = ['cpuAllocated', 'cpuRequested', 'cpuUsed', 'memoryAllocated', 'memoryRequested', 'memoryUsed'];

/** One bucket: its end (unix seconds) and its bounds as the API shows them. */
interface BucketView {
  t: number;
  start: string;
  end: string;
}

/** Quantities of one group, per bucket end (unix seconds). */
interface Group {
  labels: Record<GroupLabel, string>;
  buckets: Map<number, Quantities>;
}

const iso = (d: DateTime): string => d.toUTC().toISO({ suppressMilliseconds: true }) ?? '';

function view(w: CostWindow): WindowView {
  return { start: iso(w.start), end: iso(w.end), step: formatPromDuration(w.stepSeconds * 1000) };
}

export class CostService {
  readonly pricing: Pricing;
  private readonly nowFn: () => Date;
  private readonly rolloutsMetric: string;
  private readonly costSourceMode: 'auto' | 'raw' | 'service';

  constructor(private readonly deps: CostServiceDeps) {
    this.pricing = deps.pricing ?? DEFAULT_PRICING;
    this.nowFn = deps.now ?? (() => new Date());
    this.rolloutsMetric = deps.rolloutsMetric ?? 'paved_rollouts_started_total';
    this.costSourceMode = deps.costSource ?? 'auto';
  }

  now(): Date {
    return this.nowFn();
  }

  /** The team's directory entry, or TeamNotFoundError. */
  async requireTeam(name: string): Promise<TeamInfo> {
    const team = await this.deps.teams.get(name);
    if (!team) throw new TeamNotFoundError(name);
    return team;
  }

  private metrics(list: readonly CostMetric[]): CostMetric[] {
    return list.filter((m) => m !== 'storage' || this.pricing.includeStorage);
  }

  /** Runs one range query per metric and groups the results by the scope's labels. */
  private async fetch(
    w: CostWindow,
    scope: QueryScope,
    metrics: readonly CostMetric[],
  ): Promise<{ groups: Map<string, Group>; queries: Partial<Record<CostMetric, string>>; costSource: CostSource; recordedLevel: RecordedLevel | null }> {
    const queries: Partial<Record<CostMetric, string>> = {};
    const startSeconds = w.start.toSeconds() + w.stepSeconds;
    const endSeconds = w.end.toSeconds();
    const recordedLevel = await this.recordedLevelFor(w, scope);
    const costSource: CostSource = recordedLevel === null ? 'raw' : 'recorded';
    const results = await Promise.all(
      this.metrics(metrics).map(async (metric) => {
        const q =
          recordedLevel === null ? costRangeQuery(metric, scope, w.stepSeconds) : recordedRangeQuery(metric, scope, w.stepSeconds, recordedLevel);
        queries[metric] = q;
        try {
          return { metric, series: await this.deps.prometheus.rangeQuery(q, startSeconds, endSeconds, w.stepSeconds) };
        } catch (err) {
          throw new CostQueryError(metric, q, err);
        }
      }),
    );
    const groups = new Map<string, Group>();
    for (const { metric, series } of results) {
      for (const s of series) {
        if (scope.team !== undefined && s.labels['team'] !== scope.team) continue;
        const labels = {} as Record<GroupLabel, string>;
        for (const l of scope.groupBy) labels[l] = s.labels[l] ?? '';
        const key = scope.groupBy.map((l) => labels[l]).join('\u0000');
        let g = groups.get(key);
        if (!g) {
          g = { labels, buckets: new Map() };
          groups.set(key, g);
        }
        for (const [t, v] of s.points) {
          if (!Number.isFinite(v)) continue;
          const q = g.buckets.get(t) ?? zeroQuantities();
          q[metric] += v;
          g.buckets.set(t, q);
        }
      }
    }
    return { groups, queries, costSource, recordedLevel };
  }

  /**
   * The recorded series that hold the window's first and last hour: the per-team ones when the scope
   * groups by team only and they cover it, else the per-service ones when they do; otherwise (rules
   * not installed, installed after the window started, or the check itself failing) null: the raw
   * queries, which then report any Prometheus failure with their own PromQL.
   */
  private async recordedLevelFor(w: CostWindow, scope: QueryScope): Promise<RecordedLevel | null> {
    if (this.costSourceMode === 'raw') return null;
    const first = w.start.toSeconds() + 3600;
    const last = w.end.toSeconds();
    try {
      const covered = await this.deps.prometheus.instantQuery(recordedCoverageQuery(Math.min(first, last), last), last);
      const levels = new Set(covered.map((s) => s.labels['level']));
      if (levels.has('team') && teamLevelScope(scope) && this.costSourceMode === 'auto') return 'team';
      return levels.has('service') ? 'service' : null;
    } catch {
      return null;
    }
  }

  /** The buckets of a window as the API shows them, formatted once per report (not per group). */
  private bucketViews(w: CostWindow): BucketView[] {
    // toISOString is ~50x cheaper than luxon's toISO; a 30-day all-teams report has 200 x 30 buckets.
    const text = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
    return bucketEnds(w).map((end) => {
      const t = end.toSeconds();
      return { t, start: text(t - w.stepSeconds), end: text(t) };
    });
  }

  private series(views: readonly BucketView[], buckets: Map<number, Quantities>): BucketLine[] {
    return views.map(({ t, start, end }) => ({ start, end, ...priceQuantities(buckets.get(t) ?? zeroQuantities(), this.pricing) }));
  }

  /**
   * Cost of every (visible) team over a window, by bucket; one query per metric for all teams.
   * Every visible team of the directory is listed, with zeros when it has no samples.
   */
  async allTeams(input: WindowInput, visible: (team: string) => boolean = () => true): Promise<AllTeamsReport> {
    const w = resolveWindow(input, this.now());
    const [{ groups: fetched, queries, costSource, recordedLevel }, directory] = await Promise.all([
      this.fetch(w, { groupBy: ['team'] }, COST_METRICS),
      this.deps.teams.list(),
    ]);
    const groups = new Map([...fetched].filter(([, g]) => visible(g.labels.team)));
    for (const t of directory) {
      if (visible(t.name) && !groups.has(t.name)) groups.set(t.name, { labels: { team: t.name } as Record<GroupLabel, string>, buckets: new Map() });
    }
    const views = this.bucketViews(w);
    const teams = [...groups.values()]
      .map((g) => ({
        team: g.labels.team,
        totals: priceQuantities(sumQuantities(g.buckets.values()), this.pricing),
        series: this.series(views, g.buckets),
      }))
      .sort((a, b) => a.team.localeCompare(b.team));
    const all = sumQuantities([...groups.values()].flatMap((g) => [...g.buckets.values()]));
    return { window: view(w), currency: this.pricing.currency, totals: priceQuantities(all, this.pricing), teams, queries, costSource, recordedLevel };
  }

  /** One team by environment, service and resource, with a series per bucket. */
  async team(name: string, input: WindowInput): Promise<TeamReport> {
    await this.requireTeam(name);
    const w = resolveWindow(input, this.now());
    const scope: QueryScope = { groupBy: ['team', 'environment', 'namespace', 'service'], team: name };
    const { groups, queries, costSource, recordedLevel } = await this.fetch(w, scope, COST_METRICS);
    const views = this.bucketViews(w);
    const list = [...groups.values()];
    const allBuckets = new Map<number, Quantities>();
    const byEnv = new Map<string, Quantities>();
    for (const g of list) {
      for (const [t, q] of g.buckets) allBuckets.set(t, addQuantities(allBuckets.get(t) ?? zeroQuantities(), q));
      const env = g.labels.environment;
      byEnv.set(env, addQuantities(byEnv.get(env) ?? zeroQuantities(), sumQuantities(g.buckets.values())));
    }
    const total = sumQuantities(allBuckets.values());
    const line = priceQuantities(total, this.pricing);
    return {
      team: name,
      window: view(w),
      currency: this.pricing.currency,
      totals: line,
      series: this.series(views, allBuckets),
      byEnvironment: [...byEnv.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([environment, q]) => ({ environment, totals: priceQuantities(q, this.pricing) })),
      byService: list
        .map((g) => ({
          environment: g.labels.environment,
          namespace: g.labels.namespace,
          service: g.labels.service,
          totals: priceQuantities(sumQuantities(g.buckets.values()), this.pricing),
          series: this.series(views, g.buckets),
        }))
        .sort((a, b) => `${a.namespace}/${a.service}`.localeCompare(`${b.namespace}/${b.service}`)),
      byResource: {
        cpu: {
          coreHours: line.cpuCoreHours,
          requestedCoreHours: line.cpuRequestedCoreHours,
          usedCoreHours: line.cpuUsedCoreHours,
          cost: line.cpuCost,
          efficiency: line.cpuEfficiency,
        },
        memory: {
          gibHours: line.memoryGiBHours,
          requestedGiBHours: line.memoryRequestedGiBHours,
          usedGiBHours: line.memoryUsedGiBHours,
          cost: line.memoryCost,
          efficiency: line.memoryEfficiency,
        },
        storage: { gibHours: line.storageGiBHours, cost: line.storageCost },
      },
      queries,
      costSource,
      recordedLevel,
    };
  }

  /**
   * Burn rate and projection for the given teams (all teams with a Team object when omitted), from
   * one hourly query per cost metric covering both the month so far and the last 7 days.
   */
  async budgets(teams?: readonly TeamInfo[]): Promise<BudgetReport[]> {
    const list = teams ?? (await this.deps.teams.list());
    if (list.length === 0) return [];
    const now = lastWholeHour(this.now());
    const monthStart = now.startOf('month');
    const weekStart = now.minus({ days: 7 });
    const from = monthStart < weekStart ? monthStart : weekStart;
    const hourly: CostWindow = { start: from, end: now, stepSeconds: RESOLUTION_SECONDS };
    const scope: QueryScope = list.length === 1 ? { groupBy: ['team'], team: list[0]?.name } : { groupBy: ['team'] };
    const { groups, queries, costSource, recordedLevel } = await this.fetch(hourly, scope, COST_ONLY);
    const byTeam = new Map([...groups.values()].map((g) => [g.labels.team, g.buckets]));
    return list.map((team) => {
      let mtd = 0;
      let week = 0;
      for (const [t, q] of byTeam.get(team.name) ?? []) {
        const cost = totalCost(q, this.pricing);
        if (t > monthStart.toSeconds()) mtd += cost;
        if (t > weekStart.toSeconds()) week += cost;
      }
      const thresholds: BudgetThresholds = { ...this.pricing.budget, ...(team.thresholds ?? {}) };
      return {
        team: team.name,
        currency: this.pricing.currency,
        asOf: iso(now),
        last7DaysCost: week,
        thresholds,
        queries,
        costSource,
        recordedLevel,
        ...assessBurn({ now, monthToDateCost: mtd, last7DaysCost: week, monthlyBudget: team.monthlyBudget, thresholds }),
      };
    });
  }

  async budget(name: string): Promise<BudgetReport> {
    const team = await this.requireTeam(name);
    const [report] = await this.budgets([team]);
    if (!report) throw new TeamNotFoundError(name);
    return report;
  }

  /** This period against the previous one (default: week over week, ending at today's UTC midnight). */
  async trend(name: string, period = '7d'): Promise<TrendReport> {
    await this.requireTeam(name);
    const periodSeconds = parseDurationParam(period, 'period');
    const w = resolveWindow({ window: formatPromDuration(periodSeconds * 2 * 1000), step: period }, this.now());
    const { groups, queries, costSource, recordedLevel } = await this.fetch(w, { groupBy: ['team'], team: name }, COST_ONLY);
    const buckets = [...groups.values()][0]?.buckets ?? new Map<number, Quantities>();
    const [prevEnd, curEnd] = bucketEnds(w);
    if (!prevEnd || !curEnd) throw new CostInputError('period', 'period too long');
    const prev = priceQuantities(buckets.get(prevEnd.toSeconds()) ?? zeroQuantities(), this.pricing);
    const cur = priceQuantities(buckets.get(curEnd.toSeconds()) ?? zeroQuantities(), this.pricing);
    return {
      team: name,
      currency: this.pricing.currency,
      period: formatPromDuration(periodSeconds * 1000),
      current: { start: iso(prevEnd), end: iso(curEnd), totals: cur },
      previous: { start: iso(w.start), end: iso(prevEnd), totals: prev },
      total: assessTrend(cur.totalCost, prev.totalCost),
      cpu: assessTrend(cur.cpuCost, prev.cpuCost),
      memory: assessTrend(cur.memoryCost, prev.memoryCost),
      storage: assessTrend(cur.storageCost, prev.storageCost),
      queries,
      costSource,
      recordedLevel,
    };
  }

  /** Services whose CPU use stayed under the idle threshold of their request over the window (default 7d). */
  async idle(team: string | undefined, input: WindowInput, visible: (team: string) => boolean = () => true): Promise<IdleReport> {
    if (team !== undefined) await this.requireTeam(team);
    if (input.step !== undefined) throw new CostInputError('step', 'the idle report has no step; it covers the whole window');
    const base = resolveWindow({ ...input, step: undefined }, this.now(), { window: '7d', step: '1d' });
    const w: CostWindow = { ...base, stepSeconds: windowSeconds(base) };
    const scope: QueryScope = { groupBy: ['team', 'environment', 'namespace', 'service'], team };
    const { groups, queries, costSource, recordedLevel } = await this.fetch(w, scope, IDLE_METRICS);
    const days = windowSeconds(w) / 86_400;
    const examined = [...groups.values()].filter((g) => visible(g.labels.team));
    const idle: IdleService[] = [];
    for (const g of examined) {
      const q = sumQuantities(g.buckets.values());
      const a = assessIdle(q, { ...this.pricing, includeStorage: false });
      if (!a.idle) continue;
      idle.push({
        team: g.labels.team,
        environment: g.labels.environment,
        namespace: g.labels.namespace,
        service: g.labels.service,
        cpuRequestedCoreHours: q.cpuRequested,
        cpuUsedCoreHours: q.cpuUsed,
        cpuUtilisation: a.cpuUtilisation,
        memoryRequestedGiBHours: q.memoryRequested,
        memoryUsedGiBHours: q.memoryUsed,
        cost: a.costAtUsage + a.savings,
        costAtUsage: a.costAtUsage,
        savings: a.savings,
        monthlySavings: (a.savings / days) * 30,
      });
    }
    idle.sort((a, b) => b.savings - a.savings || a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service));
    return {
      window: view(w),
      currency: this.pricing.currency,
      threshold: this.pricing.idle.cpuUtilisationBelow,
      servicesExamined: examined.length,
      idle,
      totalSavings: idle.reduce((s, i) => s + i.savings, 0),
      queries,
      costSource,
      recordedLevel,
    };
  }

  /** Team cost over the window divided by the rollouts started in it. */
  async deployments(name: string, input: WindowInput): Promise<DeploymentCostReport> {
    await this.requireTeam(name);
    if (input.step !== undefined) throw new CostInputError('step', 'cost per deployment has no step; it covers the whole window');
    const base = resolveWindow({ ...input, step: undefined }, this.now(), { window: '30d', step: '1d' });
    const seconds = windowSeconds(base);
    const w: CostWindow = { ...base, stepSeconds: seconds };
    const scope: QueryScope = { groupBy: ['team'], team: name };
    const [{ groups }, rollouts] = await Promise.all([
      this.fetch(w, scope, COST_ONLY),
      this.deps.prometheus.instantQuery(rolloutsQuery(scope, seconds, this.rolloutsMetric), w.end.toSeconds()),
    ]);
    const cost = totalCost(sumQuantities([...groups.values()].flatMap((g) => [...g.buckets.values()])), this.pricing);
    const count = rollouts.filter((r) => r.labels['team'] === name).reduce((s, r) => s + (r.points[0]?.[1] ?? 0), 0);
    return {
      team: name,
      window: view(w),
      currency: this.pricing.currency,
      cost,
      rollouts: count,
      costPerDeployment: costPerDeployment(cost, count),
      source: `PromQL: ${rolloutsQuery(scope, seconds, this.rolloutsMetric)}`,
    };
  }
}

export function createCostService(deps: CostServiceDeps): CostService {
  return new CostService(deps);
}
