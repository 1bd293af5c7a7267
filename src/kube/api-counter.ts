/**
 * Counts every request this process sends to the API server, by verb and resource, so tests and
 * benchmarks can assert facts such as "a steady-state resync performs zero writes". Each KubeClients
 * bundle has a counter (shared with its impersonating copies); counts also feed Prometheus.
 */
import { kubeMetrics } from './metrics.js';

/** The verbs we distinguish; `apply` is a PATCH with the apply-patch content type. */
export type ApiVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'apply'
  | 'delete'
  | 'deletecollection'
  | 'discovery';

/** Verbs that change state in the cluster. */
export const WRITE_VERBS: ReadonlySet<ApiVerb> = new Set<ApiVerb>([
  'create',
  'update',
  'patch',
  'apply',
  'delete',
  'deletecollection',
]);

/** One recorded request. */
export interface ApiCall {
  verb: ApiVerb;
  /** `deployments`, `teams.paved.dev`, with `/status` etc. for subresources. */
  resource: string;
  code: number;
}

/**
 * Classifies a request (pure): `/api/v1/namespaces/ns/configmaps/x` -> { verb: 'get', resource: 'configmaps' }.
 * Discovery documents (`/api`, `/apis/g/v`) are `discovery`.
 */
export function classifyRequest(method: string, url: string, contentType?: string): { verb: ApiVerb; resource: string } {
  const u = new URL(url, 'http://x');
  const segs = u.pathname.split('/').filter(Boolean);
  let group = '';
  let rest: string[];
  if (segs[0] === 'api') rest = segs.slice(2);
  else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    rest = segs.slice(3);
  } else return { verb: 'discovery', resource: u.pathname };
  if (rest.length === 0) return { verb: 'discovery', resource: group || 'core' };
  // namespaces/{ns}/{resource}... unless the resource *is* namespaces (namespaces/{name}[/sub]).
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [res = '', name, sub] = rest;
  const resource = `${res}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`;
  return { verb: verbOf(method.toUpperCase(), u.searchParams, name !== undefined && name !== '', contentType), resource };
}

/** The Kubernetes verb of a request: by method, then by watch parameter, name and patch type. */
function verbOf(method: string, query: URLSearchParams, named: boolean, contentType: string | undefined): ApiVerb {
  switch (method) {
    case 'GET':
      if (query.get('watch') === 'true' || query.get('watch') === '1') return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return (contentType ?? '').startsWith('application/apply-patch') ? 'apply' : 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return 'get';
  }
}

/** In-memory request counts; cheap enough to keep on in production. */
export class ApiCallCounter {
  private counts = new Map<string, number>();
  private total = 0;

  /** Records one request (also increments the Prometheus counter). */
  record(call: ApiCall): void {
    const k = `${call.verb} ${call.resource}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.total++;
    kubeMetrics.apiRequests.inc({ verb: call.verb, resource: call.resource, code: String(call.code) });
  }

  /** Number of requests matching the filter (all when empty). `resource` matches with or without subresource. */
  count(filter: { verb?: ApiVerb | readonly ApiVerb[]; resource?: string } = {}): number {
    const verbs = filter.verb === undefined ? undefined : Array.isArray(filter.verb) ? filter.verb : [filter.verb];
    let n = 0;
    for (const [k, v] of this.counts) {
      const [verb = '', resource = ''] = k.split(' ');
      if (verbs && !verbs.includes(verb)) continue;
      if (filter.resource && resource !== filter.resource && !resource.startsWith(`${filter.resource}/`)) continue;
      n += v;
    }
    return n;
  }

  /** Number of write requests (create/update/patch/apply/delete), optionally for one resource. */
  writes(filter: { resource?: string } = {}): number {
    return this.count({ ...filter, verb: [...WRITE_VERBS] });
  }

  /** All counts as `{ "verb resource": n }`, sorted by key. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Total requests recorded. */
  get totalRequests(): number {
    return this.total;
  }

  reset(): void {
    this.counts.clear();
    this.total = 0;
  }
}
