/**
 * The paved developer portal: sign-in (OIDC with PKCE, or the labelled local mode), then the team
 * overview, a service's page and the new-service form, all live from the API's stream.
 */
import type { JSX } from 'preact';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.js';
import { CALLBACK_PATH, beginSignIn, completeSignIn, currentSession, signOut, type PortalConfig, type Session } from './auth.js';
import { Ctx, type AppContext } from './hooks.js';
import { NewService } from './pages/NewService.js';
import { Overview } from './pages/Overview.js';
import { ServicePage } from './pages/Service.js';
import { Link, navigate, usePath } from './router.js';
import type { Caller } from './types.js';
import './style.css';

function Routes(): JSX.Element {
  const path = usePath();
  const url = new URL(path, location.origin);
  const service = /^\/services\/([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(url.pathname);
  if (service) return <ServicePage key={url.pathname} namespace={service[1] ?? ''} name={service[2] ?? ''} />;
  if (url.pathname === '/new') return <NewService team={url.searchParams.get('team')} />;
  return <Overview />;
}

function Header(props: { config: PortalConfig; caller: Caller | null; onSignOut: () => void }): JSX.Element {
  return (
    <header>
      <nav aria-label="Main">
        <Link href="/" class="brand">paved</Link> <Link href="/">Teams</Link> <Link href="/new">New service</Link>
      </nav>
      {props.config.mode === 'local' ? (
        <p class="local-mode" role="note" data-testid="local-mode">
          <strong>Local mode</strong>: no sign-in; every visitor acts as local-admin (a platform admin). The server listens on 127.0.0.1 only.
        </p>
      ) : null}
      <p class="who">
        {props.caller ? <span data-testid="signed-in-as">Signed in as {props.caller.subject}</span> : null}
        {props.config.mode === 'oidc' ? (
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        ) : null}
      </p>
    </header>
  );
}

function SignIn(props: { config: Extract<PortalConfig, { mode: 'oidc' }>; message?: string }): JSX.Element {
  const [error, setError] = useState<string | null>(null);
  const go = () => beginSignIn(props.config, sessionStorage, location.pathname + location.search).catch((e: Error) => setError(e.message));
  return (
    <main id="main" class="signin">
      <h1>paved portal</h1>
      {props.message ? <p role="alert">{props.message}</p> : null}
      <p>Sign in with your organisation's identity provider ({new URL(props.config.issuer).host}).</p>
      <button type="button" onClick={() => void go()}>
        Sign in
      </button>
      {error ? <p role="alert">Sign-in failed: {error}</p> : null}
    </main>
  );
}

function App(props: { config: PortalConfig; initial: Session | null; message?: string }): JSX.Element {
  const [session, setSession] = useState<Session | null>(props.initial);
  const [caller, setCaller] = useState<Caller | null>(null);
  const [expired, setExpired] = useState<string | undefined>(props.message);
  const [meError, setMeError] = useState<string | null>(null);
  const token = session?.token ?? null;
  const api = useMemo(() => createApi(() => token), [token]);
  const onExpired = useCallback(() => {
    signOut(sessionStorage);
    setSession(null);
    setExpired('Your session has expired: sign in again.');
  }, []);
  useEffect(() => {
    if (props.config.mode === 'oidc' && !token) return;
    api.get<Caller>('/me').then(setCaller, (e: { status?: number; message?: string }) =>
      e.status === 401 ? onExpired() : setMeError(`the API did not answer who you are: ${e.message ?? 'no answer'}; reload to retry`),
    );
  }, [api]);
  if (props.config.mode === 'oidc' && !session) return <SignIn config={props.config} {...(expired ? { message: expired } : {})} />;
  const ctx: AppContext = { api, caller, onExpired };
  return (
    <Ctx.Provider value={ctx}>
      <a href="#main" class="skip">Skip to content</a>
      <Header config={props.config} caller={caller} onSignOut={() => { signOut(sessionStorage); setSession(null); setExpired(undefined); }} />
      <main id="main">{caller ? <Routes /> : <p role={meError ? 'alert' : undefined}>{meError ?? 'Loading…'}</p>}</main>
    </Ctx.Provider>
  );
}

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const config = (await (await fetch('/portal.json')).json()) as PortalConfig;
  let message: string | undefined;
  if (config.mode === 'oidc' && location.pathname === CALLBACK_PATH) {
    try {
      const to = await completeSignIn(config, sessionStorage, new URLSearchParams(location.search));
      navigate(to, true);
    } catch (e) {
      message = (e as Error).message;
      navigate('/', true);
    }
  }
  const session = config.mode === 'oidc' ? currentSession(sessionStorage) : null;
  render(<App config={config} initial={session} {...(message ? { message } : {})} />, root);
}

void boot();
