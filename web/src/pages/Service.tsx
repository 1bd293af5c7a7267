/**
 * One service: intent beside reality, the live step bar, the analysis charts, the history with the
 * reasons of rollbacks, the rollout controls (only for callers who may act) and a new image.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from '../api.js';
import { ConnectionState, FieldError, MetricChart, Phase, StepBar } from '../components.js';
import { useApp, useDebounced, useLive } from '../hooks.js';
import { canAct, editableIntent, intentRows, since, stepBar } from '../model.js';
import { Link } from '../router.js';
import type { AnalysisRun, Failure, ServiceDetail, ServiceView } from '../types.js';

export function ServicePage(props: { namespace: string; name: string }): JSX.Element {
  const { api } = useApp();
  const key = `${props.namespace}/${props.name}`;
  const [detail, setDetail] = useState<ServiceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api.get<ServiceDetail>(`/namespaces/${props.namespace}/webservices/${props.name}`).then(
      (d) => {
        setDetail(d);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  useEffect(() => void load(), [key]);
  const live = useLive(detail?.view.team ?? null, key);
  const view = live.state.services.get(key) ?? (live.state.epoch === null ? detail?.view : undefined);
  // The measurements and history are in the detail: re-read it when the stream moves the service.
  useDebounced(() => void (live.state.seq > 0 ? load() : undefined), [live.state.seq], 300);
  if (error && !detail) return <p role="alert">Could not load {key}: {error}</p>;
  if (!detail || !view) return <p>Loading {key}…</p>;
  return <ServiceBody view={view} detail={detail} live={live} onChanged={() => void load()} />;
}

function ServiceBody(props: { view: ServiceView; detail: ServiceDetail; live: ReturnType<typeof useLive>; onChanged: () => void }): JSX.Element {
  const { view, detail, live } = props;
  const { caller } = useApp();
  const bar = stepBar(view, detail.spec.delivery?.steps);
  const stale = live.connection !== 'live';
  return (
    <div>
      <p>
        <Link href="/">← Teams</Link>
      </p>
      <h1>
        {view.name} <span class="muted">in {view.namespace} (team {view.team})</span>
      </h1>
      <ConnectionState connection={live.connection} lastMessageAt={live.lastMessageAt} label="stream" />
      <div class={stale ? 'stale' : ''} aria-busy={stale}>
        <p>
          <Phase phase={view.reality.phase} /> <Converged view={view} />
        </p>
        <p data-testid="rollout-message">{view.reality.message ?? ''}</p>
        <IntentReality view={view} />
        <StepBar bar={bar} />
        <FailureNote failure={view.reality.failure as Failure | null} phase={view.reality.phase} />
        <Charts run={detail.rollout?.currentRun ?? detail.rolloutHistory.at(-1)} />
        {canAct(caller, view.team) ? <Controls view={view} onChanged={props.onChanged} /> : <p class="muted">You may view this service; only its team can change it.</p>}
        {canAct(caller, view.team) ? <NewImage view={view} spec={detail.spec} onChanged={props.onChanged} /> : null}
        <History runs={detail.rolloutHistory} failure={view.reality.phase === 'RolledBack' ? (view.reality.failure as Failure | null) : null} />
      </div>
    </div>
  );
}

function Converged(props: { view: ServiceView }): JSX.Element {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const r = props.view.reality;
  if (r.converged) return <span data-testid="converged">✓ converged: reality matches intent</span>;
  const for_ = r.notConvergedSince ? ` for ${since(now - Date.parse(r.notConvergedSince))}` : '';
  return <span data-testid="converged">⟳ converging{for_}</span>;
}

function IntentReality(props: { view: ServiceView }): JSX.Element {
  return (
    <section aria-labelledby="ir-h">
      <h2 id="ir-h">Intent beside reality</h2>
      <table data-testid="intent-reality">
        <thead>
          <tr>
            <th scope="col">Aspect</th>
            <th scope="col">Asked (intent)</th>
            <th scope="col">Cluster (reality)</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {intentRows(props.view).map((r) => (
            <tr key={r.label} class={r.differs ? 'differs' : ''}>
              <th scope="row">{r.label}</th>
              <td>{r.intent}</td>
              <td>{r.reality}</td>
              <td>{r.differs ? '≠ converging' : '= matches'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function FailureNote(props: { failure: Failure | null; phase: string | null }): JSX.Element | null {
  const f = props.failure;
  if (!f || props.phase !== 'RolledBack') return null;
  return (
    <section class="failure" role="alert" data-testid="rollback">
      <h2>
        <span aria-hidden="true">↩ </span>Rolled back: {f.reason ?? 'unknown reason'}
      </h2>
      <p>{f.message}</p>
      {f.metric ? (
        <p>
          Metric {f.metric}: value {f.value ?? '—'}, condition {f.condition ?? '—'}
          {f.at ? `, at ${new Date(f.at).toLocaleTimeString()}` : ''}
        </p>
      ) : null}
    </section>
  );
}

function Charts(props: { run: AnalysisRun | undefined }): JSX.Element {
  const run = props.run;
  return (
    <section aria-labelledby="an-h">
      <h2 id="an-h">Analysis</h2>
      {!run ? (
        <p>No analysis has run yet.</p>
      ) : (
        <div class="charts" data-testid="charts">
          <p>
            Run {run.id}: {run.phase}
            {run.message ? `: ${run.message}` : ''}
          </p>
          {run.metrics.map((m) => (
            <MetricChart key={m.name} metric={m} />
          ))}
        </div>
      )}
    </section>
  );
}

function History(props: { runs: AnalysisRun[]; failure: Failure | null }): JSX.Element {
  const f = props.failure;
  return (
    <section aria-labelledby="hist-h">
      <h2 id="hist-h">History</h2>
      {f ? (
        <p data-testid="history-rollback">
          <span aria-hidden="true">↩ </span>
          {f.at ? `${new Date(f.at).toLocaleString()}: ` : ''}rolled back ({f.reason ?? 'unknown reason'}): {f.message}
        </p>
      ) : null}
      {props.runs.length === 0 ? (
        <p>No finished analysis yet.</p>
      ) : (
        <ol class="history" data-testid="history" reversed>
          {[...props.runs].reverse().map((r) => (
            <li key={r.id}>
              {new Date(r.finishedAt ?? r.startedAt).toLocaleString()}: revision {r.revision}, step {r.stepIndex + 1}: <strong>{r.phase}</strong>
              {r.message ? ` (${r.message})` : ''}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const ACTIONS = [
  { action: 'promote', label: 'Promote one step', full: false },
  { action: 'promote', label: 'Promote fully', full: true },
  { action: 'pause', label: 'Pause', full: false },
  { action: 'resume', label: 'Resume', full: false },
  { action: 'abort', label: 'Abort', full: false },
  { action: 'retry', label: 'Retry', full: false },
] as const;

function Controls(props: { view: ServiceView; onChanged: () => void }): JSX.Element {
  const { api } = useApp();
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const act = async (action: string, full: boolean) => {
    try {
      await api.send('POST', `/namespaces/${props.view.namespace}/webservices/${props.view.name}/${action}`, full ? { full: true } : {});
      setOutcome({ ok: true, text: `${action}${full ? ' (full)' : ''} requested` });
      props.onChanged();
    } catch (e) {
      const text = e instanceof ApiFailure ? `${action} refused (${e.status} ${e.code}): ${e.message}` : `${action} failed: ${String(e)}`;
      setOutcome({ ok: false, text });
    }
  };
  return (
    <section aria-labelledby="ctl-h">
      <h2 id="ctl-h">Controls</h2>
      <div class="controls">
        {ACTIONS.map((a) => (
          <button key={a.label} type="button" onClick={() => void act(a.action, a.full)}>
            {a.label}
          </button>
        ))}
      </div>
      {outcome ? (
        <p role={outcome.ok ? 'status' : 'alert'} class={outcome.ok ? 'ok' : 'refused'} data-testid="control-outcome">
          <span aria-hidden="true">{outcome.ok ? '✓ ' : '✗ '}</span>
          {outcome.text}
        </p>
      ) : null}
    </section>
  );
}

function NewImage(props: { view: ServiceView; spec: ServiceDetail['spec']; onChanged: () => void }): JSX.Element {
  const { api } = useApp();
  const [image, setImage] = useState(props.view.intent.image ?? '');
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api.send('PUT', `/namespaces/${props.view.namespace}/webservices/${props.view.name}`, editableIntent(props.spec, image));
      setDone(`deploying ${image}`);
      props.onChanged();
    } catch (err) {
      setError(err instanceof ApiFailure ? `${err.message} (${err.code})` : String(err));
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="img-h">
      <h2 id="img-h">Deploy a new image</h2>
      <label for="new-image">Image</label>
      <input id="new-image" value={image} onInput={(e) => setImage(e.currentTarget.value)} aria-describedby={error ? 'new-image-error' : undefined} aria-invalid={error ? true : undefined} />
      <button type="submit">Deploy</button>
      <FieldError id="new-image-error" error={error} />
      {done ? <p role="status">{done}</p> : null}
    </form>
  );
}
