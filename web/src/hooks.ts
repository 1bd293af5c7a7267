/** Hooks shared by the pages: a live scope of the stream, and a debounced effect. */
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { createContext } from 'preact';
import type { Api } from './api.js';
import { LiveScope, emptyScope, type Connection, type ScopeState } from './live.js';
import type { Caller } from './types.js';

export interface AppContext {
  api: Api;
  caller: Caller | null;
  onExpired: () => void;
}

export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('no app context');
  return c;
}

export interface Live {
  state: ScopeState;
  connection: Connection;
  lastMessageAt: number | null;
}

/** The services of a team (or one service of it) from the stream, kept live across reconnects. */
export function useLive(team: string | null, service?: string): Live {
  const { api, onExpired } = useApp();
  const [live, setLive] = useState<Live>({ state: emptyScope(), connection: 'connecting', lastMessageAt: null });
  useEffect(() => {
    if (!team) return;
    setLive({ state: emptyScope(), connection: 'connecting', lastMessageAt: null });
    const scope = new LiveScope({
      team,
      ...(service ? { service } : {}),
      protocols: () => api.streamProtocols(),
      onChange: (state, connection, lastMessageAt) => setLive({ state, connection, lastMessageAt }),
      onExpired,
    });
    scope.start();
    return () => scope.stop();
  }, [team, service, api, onExpired]);
  return live;
}

/** Runs `fn` `ms` after the last change of `deps`. */
export function useDebounced(fn: () => void, deps: unknown[], ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const t = setTimeout(() => ref.current(), ms);
    return () => clearTimeout(t);
  }, deps);
}
