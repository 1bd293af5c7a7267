/** Small shared pieces: phase badge, connection banner, the step bar and a metric chart. */
import type { JSX } from 'preact';
import type { Connection } from './live.js';
import { threshold, type StepBar as StepBarModel } from './model.js';
import type { MetricRun } from './types.js';

const PHASE_ICON: Record<string, string> = { Healthy: '✓', Progressing: '➜', Promoting: '⇪', Paused: '⏸', RolledBack: '↩' };

/** The phase as text with an icon: colour is never the only signal. */
export function Phase(props: { phase: string | null }): JSX.Element {
  const p = props.phase ?? 'Unknown';
  return (
    <span class={`phase phase-${p.toLowerCase()}`}>
      <span aria-hidden="true">{PHASE_ICON[p] ?? '?'} </span>
      {p}
    </span>
  );
}

export function ConnectionState(props: { connection: Connection; lastMessageAt: number | null; label: string }): JSX.Element {
  const asOf = props.lastMessageAt ? new Date(props.lastMessageAt).toLocaleTimeString() : 'never';
  const text: Record<Connection, string> = {
    live: 'live',
    connecting: 'connecting…',
    disconnected: `disconnected: reconnecting; the data shown is stale (as of ${asOf})`,
    expired: 'session expired: sign in again to see live data',
  };
  return (
    <p class={`connection connection-${props.connection}`} role="status" aria-live="polite" data-testid={`connection-${props.label}`}>
      <span aria-hidden="true">{props.connection === 'live' ? '● ' : '○ '}</span>
      {props.label}: {text[props.connection]}
    </p>
  );
}

export function StepBar(props: { bar: StepBarModel }): JSX.Element {
  const { bar } = props;
  return (
    <section aria-labelledby="rollout-h">
      <h2 id="rollout-h">Rollout</h2>
      <div class="progress" role="progressbar" aria-label="Traffic on the new revision" aria-valuemin={0} aria-valuemax={100} aria-valuenow={bar.percent} aria-valuetext={`${bar.percent}%: ${bar.summary}`} data-testid="step-bar">
        <div class="progress-fill" style={{ width: `${bar.percent}%` }} />
      </div>
      <p data-testid="step-summary">
        <strong>{bar.percent}%</strong> {bar.summary}
      </p>
      <ol class="steps">
        {bar.items.map((s, i) => (
          <li key={i} class={`step step-${s.state} step-${s.kind}`} aria-current={s.state === 'current' ? 'step' : undefined}>
            <span class="step-mark" aria-hidden="true">{s.state === 'done' ? '✓' : s.state === 'current' ? '▶' : '·'}</span> {s.label}
            <span class="sr-only"> ({s.state})</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

const W = 240;
const H = 60;

/** The measurements of one metric against its threshold, as a small SVG chart with a text summary. */
export function MetricChart(props: { metric: MetricRun }): JSX.Element {
  const m = props.metric;
  const values = m.measurements.map((x) => x.value ?? null);
  const bound = threshold(m.condition);
  const numbers = values.filter((v): v is number => v !== null);
  const max = Math.max(bound?.value ?? 0, ...numbers, 1e-9) * 1.2;
  const x = (i: number) => (values.length <= 1 ? W / 2 : (i / (values.length - 1)) * (W - 10) + 5);
  const y = (v: number) => H - 5 - (v / max) * (H - 10);
  const last = numbers.at(-1);
  const summary = `${m.name}: latest ${last === undefined ? 'no data' : last.toPrecision(3)}, condition ${m.condition}, ${m.phase}`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={summary}>
        {bound ? <line class="threshold" x1={0} x2={W} y1={y(bound.value)} y2={y(bound.value)} /> : null}
        <polyline class="series" fill="none" points={values.map((v, i) => (v === null ? '' : `${x(i)},${y(v)}`)).filter(Boolean).join(' ')} />
        {values.map((v, i) => (v === null ? null : <circle key={i} class={`point point-${m.measurements[i]?.phase.toLowerCase() ?? ''}`} cx={x(i)} cy={y(v)} r={3} />))}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}

export function FieldError(props: { id: string; error: string | undefined }): JSX.Element | null {
  if (!props.error) return null;
  return (
    <p class="field-error" id={props.id} role="alert">
      <span aria-hidden="true">⚠ </span>
      {props.error}
    </p>
  );
}
