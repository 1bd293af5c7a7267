/**
 * The service tree of `kubectl paved get ws NAME` (pure: a recorded ServiceView in, text out): the
 * WebService, its stable and canary Deployments and their pods with readiness, the route weights, the
 * steps of the rollout with the current one marked, the latest analysis measurements against their
 * thresholds, and the last rollouts with their reasons. The rollout state is read with src/delivery's
 * own reader (`readRolloutState`) and steps with its `normalizeDelivery`, so the view never re-interprets
 * status with defaults of its own.
 */
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { AnalysisRun, MetricRun } from '../../../analysis/types.js';
import { describePosition } from '../../../delivery/conditions.js';
import { REVISION_ANNOTATION, readRolloutState, routeCanaryWeight } from '../../../delivery/observe.js';
import { normalizeDelivery } from '../../../delivery/spec.js';
import type { RolloutState, Step } from '../../../delivery/types.js';
import type { WebService } from '../../../webservice/render/index.js';
import { plain, type Colors } from './colors.js';
import { formatAge, renderTable } from './table.js';

/** Everything the tree shows, as read from the API server. */
export interface ServiceView {
  readonly webService: WebService;
  readonly stable?: V1Deployment;
  readonly canary?: V1Deployment;
  /** Pods of the namespace; each Deployment's are picked by its selector. */
  readonly pods: readonly V1Pod[];
  /** The service's HTTPRoute (Gateway API mode); absent in replica mode. */
  readonly route?: KubernetesObject;
}

/** How many of the latest measurements of each metric are shown. */
const SHOWN_MEASUREMENTS = 3;
/** How many past rollouts are listed. */
const SHOWN_ROLLOUTS = 5;

/** The whole tree view at `now`. */
export function renderServiceTree(view: ServiceView, now: Date, c: Colors = plain): string {
  const ws = view.webService;
  const name = ws.metadata?.name ?? '';
  const state = readRolloutState(ws);
  const out: string[] = [];
  const field = (k: string, v: string) => out.push(`${(k + ':').padEnd(14)}${v}`);
  field('Name', name);
  field('Namespace', ws.metadata?.namespace ?? '');
  field('Image', ws.spec?.image ?? '');
  field('Status', state ? phaseText(state, c) : c.dim('no rollout state yet'));
  if (state?.message) field('Message', state.message);
  field('Weights', weightsText(view, state));
  out.push('');
  out.push(c.bold('Steps:'));
  out.push(...renderSteps(stepsOf(ws), state, c));
  const run = state?.currentRun ?? state?.backgroundRun;
  if (run) {
    out.push('');
    out.push(c.bold(`Analysis: ${run.id} ${phaseColor(run.phase, c)}`));
    out.push(...renderRun(run, c));
  }
  out.push('');
  out.push(c.bold('Tree:'));
  out.push(...renderResourceTree(view, c));
  const rollouts = lastRollouts(state);
  if (rollouts.length > 0) {
    out.push('');
    out.push(c.bold('Last rollouts:'));
    out.push(
      ...renderTable(
        ['revision', 'result', 'finished', 'reason'],
        rollouts.map((r) => [r.revision, r.result, r.at ? formatAge(r.at, now) + ' ago' : '', r.reason]),
      )
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  return out.join('\n') + '\n';
}

/** The steps of the WebService's delivery spec, normalized by src/delivery. */
export function stepsOf(ws: WebService): readonly Step[] {
  return normalizeDelivery(ws.spec?.delivery).steps;
}

function phaseText(state: RolloutState, c: Colors): string {
  const where = state.phase === 'Healthy' ? '' : ` (${describePosition(state)})`;
  const reason = state.pauseReason ? `, ${state.pauseReason}` : state.phase === 'RolledBack' && state.failure ? `, ${state.failure.reason}` : '';
  return `${phaseColor(state.phase, c)}${where}${reason}`;
}

function phaseColor(phase: string, c: Colors): string {
  if (phase === 'Healthy' || phase === 'Successful') return c.green(phase);
  if (phase === 'Paused' || phase === 'Inconclusive') return c.yellow(phase);
  if (phase === 'RolledBack' || phase === 'Failed' || phase === 'Error') return c.red(phase);
  return c.cyan(phase);
}

/** "stable 90%  canary 10%", from the live route when there is one, else from the rollout state. */
function weightsText(view: ServiceView, state: RolloutState | undefined): string {
  const name = view.webService.metadata?.name ?? '';
  const live = view.route ? routeCanaryWeight(view.route, name) : undefined;
  const canary = live ?? state?.weight ?? 0;
  const source = view.route ? 'route' : 'replicas';
  return `stable ${100 - canary}%  canary ${canary}%  (${source})`;
}

function stepText(step: Step): string {
  if ('setWeight' in step) return `setWeight ${step.setWeight}`;
  if ('pause' in step) return step.pause.durationMs !== undefined ? `pause ${step.pause.durationMs / 1000}s` : 'pause (until resumed)';
  return `analysis ${step.analysis.templates.map((t) => (t.clusterScope ? `cluster/${t.name}` : t.name)).join(', ')}`;
}

/** The steps with done (✔), current (▶) and pending marks; no current step when healthy. */
export function renderSteps(steps: readonly Step[], state: RolloutState | undefined, c: Colors = plain): string[] {
  const moving = state !== undefined && state.phase !== 'Healthy' && state.phase !== 'RolledBack';
  return steps.map((s, i) => {
    const n = `${i + 1}.`.padEnd(4);
    if (!moving || state.phase === 'Promoting') return `  ${state?.phase === 'Promoting' ? c.green('✔') : ' '} ${n}${stepText(s)}`;
    if (i < state.stepIndex) return `  ${c.green('✔')} ${n}${stepText(s)}`;
    if (i === state.stepIndex) return `  ${c.cyan('▶')} ${n}${c.bold(stepText(s))}  ${c.dim(`<- current (${state.phase})`)}`;
    return `    ${n}${stepText(s)}`;
  });
}

function formatValue(v: number | undefined): string {
  if (v === undefined) return '-';
  return Number.isInteger(v) ? String(v) : v.toPrecision(3).replace(/\.?0+$/, '');
}

/** A metric line and its latest measurements against the condition. */
function renderMetric(m: MetricRun, c: Colors): string[] {
  const counts = `${m.successful} ok, ${m.failed} failed, ${m.inconclusive} inconclusive, ${m.error} errors`;
  const lines = [`  ${m.name} (${m.template})  ${phaseColor(m.phase, c)}  condition: ${m.condition}  [${counts}]`];
  for (const ms of m.measurements.slice(-SHOWN_MEASUREMENTS)) {
    const stable = ms.stableValue !== undefined ? ` stable=${formatValue(ms.stableValue)}` : '';
    const msg = ms.message ? `  ${c.dim(ms.message)}` : '';
    lines.push(`    ${ms.at}  value=${formatValue(ms.value)}${stable}  ${phaseColor(ms.phase, c)}${msg}`);
  }
  return lines;
}

export function renderRun(run: AnalysisRun, c: Colors = plain): string[] {
  return run.metrics.flatMap((m) => renderMetric(m, c));
}

/** Whether a pod is Ready (its Ready condition is True). */
function isPodReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((cond) => cond.type === 'Ready' && cond.status === 'True') ?? false;
}

function selects(d: V1Deployment, p: V1Pod): boolean {
  const sel = d.spec?.selector?.matchLabels ?? {};
  const labels = p.metadata?.labels ?? {};
  return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
}

/** WebService -> Deployments -> pods, with box-drawing branches. */
export function renderResourceTree(view: ServiceView, c: Colors = plain): string[] {
  const lines = [`  WebService ${view.webService.metadata?.name ?? ''}`];
  const deployments = [
    ['stable', view.stable],
    ['canary', view.canary],
  ].filter((e): e is [string, V1Deployment] => e[1] !== undefined);
  deployments.forEach(([track, d], i) => {
    const last = i === deployments.length - 1;
    const rev = d.spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION] ?? '?';
    const ready = `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0} ready`;
    lines.push(`  ${last ? '└──' : '├──'} Deployment ${d.metadata?.name ?? ''}  ${track}  revision ${rev}  ${ready}`);
    const pods = view.pods.filter((p) => selects(d, p)).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    pods.forEach((p, j) => {
      const branch = j === pods.length - 1 ? '└──' : '├──';
      const readiness = isPodReady(p) ? c.green('Ready') : c.yellow(`NotReady (${p.status?.phase ?? 'Unknown'})`);
      lines.push(`  ${last ? '   ' : '│  '} ${branch} Pod ${p.metadata?.name ?? ''}  ${readiness}`);
    });
  });
  if (deployments.length === 0) lines.push(`  └── ${c.dim('no Deployments yet')}`);
  return lines;
}

export interface RolloutSummary {
  readonly revision: string;
  readonly result: string;
  readonly at?: string;
  readonly reason: string;
}

/**
 * The last rollouts, newest first: the current one's outcome when it is finished (with the failure
 * report), then the revisions of the finished analysis runs in status.rollout.history (each with the
 * verdict and message of its last run).
 */
export function lastRollouts(state: RolloutState | undefined): RolloutSummary[] {
  if (!state) return [];
  const out: RolloutSummary[] = [];
  const seen = new Set<string>();
  if (state.canaryRevision && (state.phase === 'RolledBack' || state.phase === 'Healthy')) {
    const failed = state.phase === 'RolledBack';
    const reason = failed
      ? `${state.failure?.reason ?? 'RolledBack'}${state.failure?.metric ? ` (${state.failure.metric} = ${formatValue(state.failure.value)})` : ''}: ${state.failure?.message ?? state.message ?? ''}`
      : state.message ?? 'promoted';
    out.push({ revision: state.canaryRevision, result: failed ? 'RolledBack' : 'Promoted', at: failed ? state.rolledBackAt : state.completedAt, reason });
    seen.add(state.canaryRevision);
  }
  for (const run of [...state.history].reverse()) {
    if (seen.has(run.revision)) continue;
    seen.add(run.revision);
    out.push({ revision: run.revision, result: `analysis ${run.phase}`, at: run.finishedAt, reason: run.message ?? '' });
  }
  return out.slice(0, SHOWN_ROLLOUTS);
}
