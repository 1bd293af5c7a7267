/**
 * Who is calling, and what they may read or change. The server's auth middleware establishes the
 * Caller; the server's routes and the cost routes read it (`c.get('caller')`) and ask the predicates
 * below. Nothing else decides team scoping.
 */

/** An authenticated caller with its platform roles and teams. */
export interface Caller {
  /** OIDC `sub` (or "local-admin" when OIDC is not configured and the API is loopback-only). */
  readonly subject: string;
  readonly groups: readonly string[];
  /** Names of the Teams whose owners or members include this caller's user or groups. */
  readonly teams: readonly string[];
  readonly isPlatformAdmin: boolean;
  readonly isFinance: boolean;
}

/** Hono context variables shared by every route module (the server's and the cost capability's). */
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
