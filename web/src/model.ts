/** Pure helpers of the pages: step bar, intent beside reality, the steps field, thresholds, money. */
import type { Caller, ServiceView, Step } from './types.js';

/** The tag of an image reference (`ghcr.io/acme/shop:1.4.2` -> `1.4.2`; a digest is shortened). */
export function imageTag(image: string | null): string {
  if (!image) return '—';
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1, at + 20);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

/** What the platform does when a service names no steps (src/delivery/spec.ts). */
export const DEFAULT_STEPS: Step[] = [
  { setWeight: 10 },
  { analysis: { templates: [{ templateName: 'error-rate', clusterScope: true }, { templateName: 'latency-p99', clusterScope: true }] } },
  { setWeight: 50 },
  { analysis: { templates: [{ templateName: 'error-rate', clusterScope: true }, { templateName: 'latency-p99', clusterScope: true }] } },
  { setWeight: 100 },
];

export type StepState = 'done' | 'current' | 'todo' | 'failed';

export interface StepBarItem {
  label: string;
  kind: 'weight' | 'pause' | 'analysis';
  state: StepState;
}

export interface StepBar {
  items: StepBarItem[];
  /** Share of traffic on the new revision, 0..100 (100 once promoted). */
  percent: number;
  summary: string;
}

export function stepLabel(s: Step): { label: string; kind: StepBarItem['kind'] } {
  if (s.setWeight !== undefined) return { label: `${s.setWeight}%`, kind: 'weight' };
  if (s.pause) return { label: s.pause.duration ? `pause ${s.pause.duration}` : 'pause', kind: 'pause' };
  return { label: `analysis (${(s.analysis?.templates ?? []).map((t) => t.templateName).join(', ')})`, kind: 'analysis' };
}

/** The step bar of a service: where its rollout stands, or its last outcome. */
export function stepBar(view: ServiceView, steps: Step[] | undefined): StepBar {
  const list = steps && steps.length > 0 ? steps : DEFAULT_STEPS;
  const phase = view.reality.phase ?? 'Unknown';
  const step = view.intent.step;
  const rolledBack = phase === 'RolledBack';
  const finished = step === null;
  const promoted = finished && !rolledBack;
  const items = list.map((s, i): StepBarItem => {
    let state: StepState = 'todo';
    if (promoted) state = 'done';
    else if (rolledBack) state = 'todo';
    else if (step !== null && i < step) state = 'done';
    else if (i === step) state = 'current';
    return { ...stepLabel(s), state };
  });
  const canary = view.reality.routeWeights?.canary ?? view.intent.weight ?? 0;
  const percent = phase === 'Promoting' || promoted ? 100 : rolledBack ? 0 : canary;
  const summary = rolledBack
    ? 'rolled back'
    : promoted
      ? 'complete: 100% on the current revision'
      : `step ${(step ?? 0) + 1} of ${list.length}, ${percent}% of traffic on the canary (${phase})`;
  return { items, percent, summary };
}

export interface Row {
  label: string;
  intent: string;
  reality: string;
  differs: boolean;
}

/** Intent beside reality, one row per aspect, with the rows that have not converged marked. */
export function intentRows(v: ServiceView): Row[] {
  const i = v.intent;
  const r = v.reality;
  const ready = r.readyPods.stable + r.readyPods.canary;
  const wantedWeight = i.weight ?? 0;
  const routeWeight = r.routeWeights?.canary ?? 0;
  const runningRevision = r.canaryRevision && routeWeight > 0 ? `${r.stableRevision ?? '—'} + canary ${r.canaryRevision}` : (r.stableRevision ?? '—');
  return [
    { label: 'Generation', intent: String(i.generation ?? '—'), reality: `observed ${r.observedGeneration ?? '—'}`, differs: i.generation !== r.observedGeneration },
    { label: 'Image', intent: i.image ?? '—', reality: `revision ${runningRevision}`, differs: i.revision !== null && i.revision !== r.stableRevision },
    { label: 'Revision', intent: i.revision ?? '—', reality: r.stableRevision ?? '—', differs: i.revision !== null && i.revision !== r.stableRevision },
    { label: 'Canary weight', intent: `${wantedWeight}%`, reality: r.routeWeights ? `${routeWeight}% on the route` : 'no route', differs: r.routeWeights !== null && wantedWeight !== routeWeight },
    {
      label: 'Replicas',
      intent: `${i.replicas.min ?? '—'} to ${i.replicas.max ?? '—'}`,
      reality: `${ready} ready (stable ${r.readyPods.stable}, canary ${r.readyPods.canary})`,
      differs: i.replicas.min !== null && ready < i.replicas.min,
    },
  ];
}

/** May the caller change (create, promote, abort...) the team's services? The API's own rule (canWriteTeam). */
export function canAct(caller: Caller | null, team: string): boolean {
  if (!caller) return false;
  return caller.isPlatformAdmin || caller.teams.includes(team);
}

/** The threshold in a condition such as "result <= 0.05" (null when not a plain bound). */
export function threshold(condition: string): { op: '<=' | '>=' | '<' | '>'; value: number } | null {
  const m = /(<=|>=|<|>)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$/.exec(condition.trim());
  if (!m) return null;
  return { op: m[1] as '<=' | '>=' | '<' | '>', value: Number(m[2]) };
}

export function money(amount: number | null | undefined, currency: string): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return '—';
  return new Intl.NumberFormat('en', { style: 'currency', currency: currency || 'USD', maximumFractionDigits: 2 }).format(amount);
}

/** "1m 5s" from a duration in ms. */
export function since(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * The form's steps field: comma-separated `10`, `pause`, `pause 30s`, `analysis:tpl[+tpl2]`; empty is
 * the platform default. Returns the steps or the error of the first bad entry.
 */
export function parseSteps(text: string): { steps?: Step[]; error?: string } {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) return {};
  const steps: Step[] = [];
  for (const p of parts) {
    if (/^\d{1,3}%?$/.test(p)) {
      const w = Number(p.replace('%', ''));
      if (w > 100) return { error: `"${p}": a weight is at most 100` };
      steps.push({ setWeight: w });
    } else if (/^pause(\s+([0-9]+(ms|s|m|h))+)?$/.test(p)) {
      const d = p.split(/\s+/)[1];
      steps.push({ pause: d ? { duration: d } : {} });
    } else if (/^analysis:[a-z0-9.+-]+$/.test(p)) {
      const names = p.slice('analysis:'.length).split('+').filter(Boolean);
      steps.push({ analysis: { templates: names.map((templateName) => ({ templateName })) } });
    } else {
      return { error: `"${p}": expected a weight (10), "pause", "pause 30s" or "analysis:TEMPLATE"` };
    }
  }
  return { steps };
}

/** The form's fields, as typed. */
export interface FormFields {
  name: string;
  image: string;
  runtime: string;
  port: string;
  minReplicas: string;
  maxReplicas: string;
  visibility: 'public' | 'private';
  host: string;
  dependencies: string;
  steps: string;
}

export const EMPTY_FORM: FormFields = {
  name: '',
  image: '',
  runtime: '',
  port: '',
  minReplicas: '2',
  maxReplicas: '4',
  visibility: 'private',
  host: '',
  dependencies: '',
  steps: '',
};

/** The intent the API takes (docs/api.md) from the form, plus the errors found before asking the server. */
export function formIntent(f: FormFields): { intent: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const intent: Record<string, unknown> = { name: f.name.trim(), image: f.image.trim() };
  if (f.runtime) intent['runtime'] = f.runtime;
  if (f.port.trim()) intent['port'] = Number(f.port);
  const scaling: Record<string, number> = {};
  if (f.minReplicas.trim()) scaling['minReplicas'] = Number(f.minReplicas);
  if (f.maxReplicas.trim()) scaling['maxReplicas'] = Number(f.maxReplicas);
  if (Object.keys(scaling).length > 0) intent['scaling'] = scaling;
  const dependencies = f.dependencies
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => (d.includes('/') ? { namespace: d.split('/')[0], service: d.split('/')[1] } : { service: d }));
  intent['networking'] = {
    visibility: f.visibility,
    ...(f.host.trim() ? { host: f.host.trim() } : {}),
    ...(dependencies.length > 0 ? { dependencies } : {}),
  };
  const steps = parseSteps(f.steps);
  if (steps.error) errors['delivery.steps'] = steps.error;
  else if (steps.steps) intent['delivery'] = { steps: steps.steps };
  return { intent, errors };
}

/** Which form field an API error's `field` belongs to (`scaling.minReplicas` -> minReplicas). */
export function fieldOf(apiField: string | undefined): keyof FormFields | 'delivery.steps' | null {
  if (!apiField) return null;
  const f = apiField.replace(/^spec\./, '');
  const map: Array<[RegExp, keyof FormFields | 'delivery.steps']> = [
    [/^name$|^metadata\.name/, 'name'],
    [/^image/, 'image'],
    [/^runtime/, 'runtime'],
    [/^port/, 'port'],
    [/^scaling\.minReplicas/, 'minReplicas'],
    [/^scaling\.maxReplicas/, 'maxReplicas'],
    [/^scaling/, 'minReplicas'],
    [/^networking\.visibility/, 'visibility'],
    [/^networking\.host/, 'host'],
    [/^networking\.dependencies/, 'dependencies'],
    [/^delivery/, 'delivery.steps'],
  ];
  for (const [re, name] of map) if (re.test(f)) return name;
  return null;
}

const pick = (o: unknown, keys: readonly string[]): Record<string, unknown> | undefined => {
  if (!o || typeof o !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((o as Record<string, unknown>)[k] !== undefined) out[k] = (o as Record<string, unknown>)[k];
  return Object.keys(out).length > 0 ? out : undefined;
};

/** The intent (docs/api.md) of a live spec, for an update: only the fields the intent takes (it is strict). */
export function editableIntent(spec: Record<string, unknown>, image: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...pick(spec, ['runtime', 'port', 'tier', 'config', 'scaling', 'observability']), image };
  const networking = pick(spec['networking'], ['visibility', 'host', 'paths', 'tls', 'dependencies', 'allowedCallers']);
  if (networking) out['networking'] = networking;
  const delivery = pick(spec['delivery'], ['steps', 'progressDeadlineSeconds', 'scaleDownDelaySeconds']);
  if (delivery) out['delivery'] = delivery;
  return out;
}
