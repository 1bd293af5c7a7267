/**
 * Who is calling the API, as established by the auth middleware, and what they may see.
 * Route modules read it with `c.get('caller')`; nothing else decides team scoping.
 */
export interface Caller {
  /** OIDC `sub` (or "local-admin" when OIDC is not configured and the API is loopback-only). */
  readonly subject: string;
  readonly groups: readonly string[];
  /** Names of the Teams whose owners or members include this caller's user or groups. */
  readonly teams: readonly string[];
  readonly isPlatformAdmin: boolean;
  readonly isFinance: boolean;
}

/** Hono context variables shared by every route module. */
export interface ApiEnv {
  Variables: {
    caller: Caller;
    requestId: string;
  };
}

/** True when the caller may read the named team's data. */
export function canReadTeam(caller: Caller, team: string): boolean {
  return caller.isPlatformAdmin || caller.isFinance || caller.teams.includes(team);
}

/** True when the caller may change the named team's resources. */
export function canWriteTeam(caller: Caller, team: string): boolean {
  return caller.isPlatformAdmin || caller.teams.includes(team);
}
