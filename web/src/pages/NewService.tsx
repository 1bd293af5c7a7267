/**
 * The new-service form: the simple intent, with a live preview (objects and projected monthly cost,
 * from the API's preview endpoint, nothing applied) before submitting; a server error is shown next to
 * the field it names.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from '../api.js';
import { FieldError } from '../components.js';
import { useApp, useDebounced } from '../hooks.js';
import { EMPTY_FORM, canAct, fieldOf, formIntent, money, type FormFields } from '../model.js';
import { navigate } from '../router.js';
import type { Preview, Team } from '../types.js';

type Errors = Partial<Record<keyof FormFields | 'delivery.steps' | 'form', string>>;

export function NewService(props: { team: string | null }): JSX.Element {
  const { api, caller } = useApp();
  const [teams, setTeams] = useState<Team[]>([]);
  const [team, setTeam] = useState<string>(props.team ?? '');
  const [namespace, setNamespace] = useState('');
  const [fields, setFields] = useState<FormFields>(EMPTY_FORM);
  const [errors, setErrors] = useState<Errors>({});
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  useEffect(() => {
    api.get<{ items: Team[] }>('/teams').then((r) => {
      const mine = r.items.filter((t) => canAct(caller, t.name));
      setTeams(mine);
      const chosen = mine.find((t) => t.name === team) ?? mine[0];
      if (chosen) {
        setTeam(chosen.name);
        setNamespace(chosen.namespaces[0] ?? '');
      }
    }, () => undefined);
  }, [api]);
  const { intent, errors: localErrors } = formIntent(fields);
  useDebounced(() => {
    if (!namespace || !fields.name || !fields.image) return setPreview(null);
    api.send<Preview>('POST', `/namespaces/${namespace}/webservices/preview`, intent).then(
      (p) => {
        setPreview(p);
        setPreviewError(null);
        setErrors({});
      },
      (e: unknown) => {
        setPreview(null);
        setPreviewError(e instanceof ApiFailure ? e.message : String(e));
        if (e instanceof ApiFailure) setErrors(errorsOf(e));
      },
    );
  }, [namespace, JSON.stringify(intent)], 400);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (Object.keys(localErrors).length > 0) return setErrors(localErrors);
    try {
      await api.send('POST', `/namespaces/${namespace}/webservices`, intent);
      navigate(`/services/${namespace}/${fields.name}`);
    } catch (err) {
      setErrors(err instanceof ApiFailure ? errorsOf(err) : { form: String(err) });
    }
  };
  const all: Errors = { ...localErrors, ...errors };
  const set = (k: keyof FormFields) => (e: Event) => setFields({ ...fields, [k]: (e.currentTarget as HTMLInputElement).value });
  const selected = teams.find((t) => t.name === team);
  return (
    <div class="new-service">
      <h1>New service</h1>
      <form onSubmit={(e) => void submit(e)} noValidate data-testid="new-service-form">
        <TeamFields teams={teams} team={team} namespace={namespace} namespaces={selected?.namespaces ?? []} setTeam={setTeam} setNamespace={setNamespace} />
        <IntentFields fields={fields} set={set} errors={all} />
        <FieldError id="form-error" error={all.form} />
        <button type="submit" disabled={!namespace}>
          Create service
        </button>
      </form>
      <PreviewPanel preview={preview} error={previewError} />
    </div>
  );
}

function errorsOf(e: ApiFailure): Errors {
  const f = fieldOf(e.field);
  return f ? { [f]: e.message } : { form: `${e.message} (${e.code})` };
}

function TeamFields(p: { teams: Team[]; team: string; namespace: string; namespaces: string[]; setTeam: (t: string) => void; setNamespace: (n: string) => void }): JSX.Element {
  return (
    <fieldset>
      <legend>Where</legend>
      <label for="f-team">Team</label>
      <select id="f-team" value={p.team} onChange={(e) => {
        const t = p.teams.find((x) => x.name === e.currentTarget.value);
        p.setTeam(e.currentTarget.value);
        p.setNamespace(t?.namespaces[0] ?? '');
      }}>
        {p.teams.map((t) => (
          <option key={t.name} value={t.name}>{t.name}</option>
        ))}
      </select>
      <label for="f-namespace">Namespace</label>
      <select id="f-namespace" value={p.namespace} onChange={(e) => p.setNamespace(e.currentTarget.value)}>
        {p.namespaces.map((n) => (
          <option key={n} value={n}>{n}</option>
        ))}
      </select>
    </fieldset>
  );
}

function Field(p: { id: keyof FormFields | 'delivery.steps'; label: string; hint?: string; errors: Errors; children: (aria: Record<string, unknown>) => JSX.Element }): JSX.Element {
  const errId = `e-${p.id.replace('.', '-')}`;
  const hintId = `h-${p.id.replace('.', '-')}`;
  const error = p.errors[p.id];
  const describedBy = [p.hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={`f-${p.id.replace('.', '-')}`}>{p.label}</label>
      {p.children({ id: `f-${p.id.replace('.', '-')}`, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
      {p.hint ? <p class="hint" id={hintId}>{p.hint}</p> : null}
      <FieldError id={errId} error={error} />
    </div>
  );
}

function IntentFields(p: { fields: FormFields; set: (k: keyof FormFields) => (e: Event) => void; errors: Errors }): JSX.Element {
  const f = p.fields;
  const text = (k: keyof FormFields, label: string, hint?: string) => (
    <Field id={k} label={label} errors={p.errors} {...(hint ? { hint } : {})}>
      {(aria) => <input {...aria} value={f[k]} onInput={p.set(k)} />}
    </Field>
  );
  return (
    <fieldset>
      <legend>The service</legend>
      {text('name', 'Name', 'lower case letters, digits and "-"')}
      {text('image', 'Image', 'e.g. ghcr.io/acme/shop:1.0.0')}
      <Field id="runtime" label="Runtime" errors={p.errors}>
        {(aria) => (
          <select {...aria} value={f.runtime} onChange={p.set('runtime')}>
            <option value="">platform default</option>
            {['node', 'python', 'go', 'java', 'generic'].map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
        )}
      </Field>
      {text('port', 'Port')}
      {text('minReplicas', 'Minimum replicas')}
      {text('maxReplicas', 'Maximum replicas')}
      <fieldset>
        <legend>Visibility</legend>
        {(['private', 'public'] as const).map((v) => (
          <label key={v} class="radio">
            <input type="radio" name="visibility" value={v} checked={f.visibility === v} onChange={p.set('visibility')} /> {v}
          </label>
        ))}
        <FieldError id="e-visibility" error={p.errors.visibility} />
      </fieldset>
      {text('host', 'Host', 'required when public, e.g. shop.example.com')}
      {text('dependencies', 'Dependencies', 'services it calls, comma-separated: cart, other-ns/payments')}
      {text('steps', 'Rollout steps', 'empty for the platform default (10, analysis, 50, analysis, 100); or e.g. 10, analysis:gate, 50, pause 30s, 100')}
      <FieldError id="e-delivery-steps" error={p.errors['delivery.steps']} />
    </fieldset>
  );
}

function PreviewPanel(p: { preview: Preview | null; error: string | null }): JSX.Element {
  return (
    <section aria-labelledby="pv-h" class="preview" aria-live="polite" data-testid="preview">
      <h2 id="pv-h">Preview</h2>
      {p.error ? <p role="alert">The preview was refused: {p.error}</p> : null}
      {!p.preview ? (
        <p>Give a name and an image to see what will be created and what it costs.</p>
      ) : (
        <div>
          <p data-testid="preview-cost">
            Projected monthly cost: <strong>{p.preview.cost ? money(p.preview.cost.monthly, p.preview.cost.currency) : 'not available'}</strong>
          </p>
          {p.preview.allowed ? null : <p role="alert">An enforced policy would refuse these objects.</p>}
          <ul data-testid="preview-objects">
            {p.preview.objects.map((o, i) => (
              <li key={i}>
                {o.kind} {o.metadata?.name}
              </li>
            ))}
          </ul>
          {p.preview.violations.map((v, i) => (
            <p key={i} class="refused">
              ⚠ {v.policy}: {v.message}
            </p>
          ))}
          {p.preview.notes.map((n) => (
            <p key={n} class="muted">{n}</p>
          ))}
        </div>
      )}
    </section>
  );
}
