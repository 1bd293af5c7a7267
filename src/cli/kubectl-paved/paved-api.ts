/**
 * The paved API as the plugin uses it (`cost`, `recommendations`): `--api URL` with a bearer token
 * from `--token` or the kubeconfig user's credentials (a token, or what an exec plugin returns), so the
 * plugin has nothing of its own for auth. API errors `{ code, message, field }` become CliErrors with
 * the API's message; a 404 on an endpoint the API does not have is NotImplemented, not "not found".
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { BudgetReport, TeamReport } from '../../cost/service.js';
import type { TeamRecommendations } from '../../rightsizing/routes.js';
import { CliError, ExitCode, exitCodeOfStatus } from './exit-codes.js';

/** The API prefix of the paved server (src/server/app.ts). */
export const API_PREFIX = '/api/v1';

/** Where the recommendations of a team are served (src/rightsizing/routes.ts). */
export const RECOMMENDATIONS_PATH = (team: string) => `${API_PREFIX}/teams/${encodeURIComponent(team)}/recommendations`;

/** The bearer token: the flag, else the kubeconfig's current user credentials. */
export async function bearerToken(kc: KubeConfig, flag: string | undefined): Promise<string | undefined> {
  if (flag) return flag;
  const opts: { headers?: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const auth = opts.headers?.Authorization ?? opts.headers?.authorization;
  return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

export class PavedApi {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    try {
      new URL(base);
    } catch {
      throw new CliError(`--api: "${base}" is not a URL (e.g. https://paved.example.com)`, ExitCode.Usage);
    }
  }

  /** GET a JSON document; `notImplemented` names the feature when a 404 means the API lacks the endpoint. */
  async get<T>(path: string, notImplemented?: string): Promise<T> {
    const url = this.base.replace(/\/$/, '') + path;
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers: { accept: 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) } });
    } catch (err) {
      throw new CliError(`cannot reach the paved API at ${this.base}: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`, ExitCode.Unavailable, {
        cause: err,
      });
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    if (res.status === 404 && notImplemented) {
      throw new CliError(`the paved API at ${this.base} has no ${notImplemented} endpoint (GET ${path} answered 404): ${notImplemented} are not available yet`, ExitCode.NotImplemented);
    }
    let message = text.trim() || res.statusText;
    try {
      const body = JSON.parse(text) as { message?: string; field?: string };
      if (body.message) message = body.field ? `${body.field}: ${body.message}` : body.message;
    } catch {
      // not JSON: the text itself
    }
    throw new CliError(`paved API ${res.status}: ${message}`, exitCodeOfStatus(res.status));
  }

  budget(team: string): Promise<BudgetReport> {
    return this.get(`${API_PREFIX}/cost/teams/${encodeURIComponent(team)}/budget`);
  }

  /** The team's cost this month so far (window from the start of the month, by day). */
  teamCost(team: string, monthStart: string, now: string): Promise<TeamReport> {
    const q = new URLSearchParams({ start: monthStart, end: now, step: '1d' });
    return this.get(`${API_PREFIX}/cost/teams/${encodeURIComponent(team)}?${q.toString()}`);
  }

  recommendations(team: string): Promise<TeamRecommendations> {
    return this.get(RECOMMENDATIONS_PATH(team), 'recommendations');
  }
}
