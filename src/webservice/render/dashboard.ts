/**
 * A Grafana dashboard per WebService with metrics on, as a ConfigMap labelled for Grafana's dashboard
 * sidecar (`grafana_dashboard: "1"`) in the service's namespace. Owned by the WebService like every
 * other child, so it is pruned with it. Built with @grafana/grafana-foundation-sdk; pure: the same
 * WebService always gives the same JSON (a fixed uid derived from namespace and name).
 *
 * Panels: golden signals by track (request rate, error ratio and p99 latency of stable vs canary,
 * the series the canary analysis compares), rollout annotations (rollouts started, promoted and rolled
 * back), this month's cost (the recorded hourly allocation of the cost rules), and the rightsizing
 * recommendation next to the current requests.
 */
import { createHash } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { AnnotationQueryBuilder, DashboardBuilder, DatasourceVariableBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { RECORDED_SERIES } from '../../cost/queries.js';
import { objectMeta, type Identity } from './labels.js';
import type { NormalizedSpec, WebService } from './spec.js';

/** The label Grafana's dashboard sidecar watches (kiwigrid k8s-sidecar's default). */
export const DASHBOARD_SIDECAR_LABEL = 'grafana_dashboard';

const DS: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The ConfigMap's name: one per WebService. */
export function dashboardConfigMapName(service: string): string {
  return `${service}-dashboard`;
}

/** Grafana uids are at most 40 characters: a readable prefix and a hash of namespace/name. */
export function serviceDashboardUid(id: Identity): string {
  const hash = createHash('sha256').update(`${id.namespace}/${id.name}`).digest('hex').slice(0, 12);
  return `paved-ws-${id.name.slice(0, 18)}-${hash}`;
}

function query(refId: string, expr: string, legend?: string, instant = false): prometheus.DataqueryBuilder {
  const q = new prometheus.DataqueryBuilder().refId(refId).expr(expr).datasource(DS);
  if (legend !== undefined) q.legendFormat(legend);
  return instant ? q.instant() : q.range();
}

function series(title: string, unit: string, w: number, targets: prometheus.DataqueryBuilder[]): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder().title(title).unit(unit).datasource(DS).gridPos({ x: 0, y: 0, w, h: 8 });
  for (const t of targets) p.withTarget(t);
  return p;
}

function single(title: string, unit: string, expr: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .unit(unit)
    .datasource(DS)
    .gridPos({ x: 0, y: 0, w: 6, h: 5 })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(query('A', expr, undefined, true));
}

/** The dashboard model of one WebService. */
export function renderServiceDashboardModel(id: Identity): dashboard.Dashboard {
  const svc = `namespace="${id.namespace}", service="${id.name}"`;
  const http = (extra = '') => `http_requests_total{${svc}${extra}}`;
  const rate = (sel: string) => `sum by (track) (rate(${sel}[$__rate_interval]))`;
  const recorded = `team="${id.team}", namespace="${id.namespace}", service="${id.name}"`;
  const month = (metric: keyof typeof RECORDED_SERIES) => `sum(sum_over_time(${RECORDED_SERIES[metric]}{${recorded}}[30d:1h]))`;
  let panelId = 0;
  const next = <T extends { id(id: number): T }>(p: T): T => p.id(++panelId);
  const rollouts = (name: string, expr: string, color: string) =>
    new AnnotationQueryBuilder()
      .name(name)
      .datasource(DS)
      .enable(true)
      .iconColor(color)
      .target(query(name, expr));
  return new DashboardBuilder(`paved / ${id.namespace} / ${id.name}`)
    .uid(serviceDashboardUid(id))
    .description(`Golden signals of WebService ${id.namespace}/${id.name} by track, its rollouts, cost and rightsizing (rendered by paved).`)
    .tags(['paved', 'webservice', `team:${id.team}`])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('utc')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))
    .annotation(rollouts('Rollout started', `changes(paved_rollouts_started_total{${svc}}[1m]) > 0`, 'blue'))
    .annotation(rollouts('Rollout promoted', `changes(paved_rollouts_succeeded_total{${svc}}[1m]) > 0`, 'green'))
    .annotation(rollouts('Rolled back', `changes(paved_rollouts_rolled_back_total{${svc}}[1m]) > 0`, 'red'))
    .withRow(next(new RowBuilder('Golden signals by track (stable vs canary)')))
    .withPanel(next(series('Requests', 'reqps', 8, [query('A', rate(http()), '{{track}}')])))
    .withPanel(next(series('Error ratio (5xx)', 'percentunit', 8, [query('A', `${rate(http(', code=~"5.."'))} / ${rate(http())}`, '{{track}}')])))
    .withPanel(
      next(
        series('Latency p99', 's', 8, [
          query('A', `histogram_quantile(0.99, sum by (le, track) (rate(http_request_duration_seconds_bucket{${svc}}[$__rate_interval])))`, '{{track}}'),
        ]),
      ),
    )
    .withRow(next(new RowBuilder('Cost and rightsizing')))
    .withPanel(next(single('CPU core-hours, last 30 days', 'none', month('cpuAllocated'))))
    .withPanel(next(single('Memory GiB-hours, last 30 days', 'none', month('memoryAllocated'))))
    .withPanel(
      next(
        series('CPU: requested vs recommended', 'none', 6, [
          query('A', `sum(kube_pod_container_resource_requests{resource="cpu", namespace="${id.namespace}"} * on (namespace, pod) group_left () group by (namespace, pod) (kube_pod_labels{namespace="${id.namespace}", label_paved_dev_service="${id.name}"}))`, 'requested'),
          query('B', `sum(paved_rightsizing_recommended_request{resource="cpu", namespace="${id.namespace}", webservice="${id.name}"})`, 'recommended'),
        ]),
      ),
    )
    .withPanel(
      next(
        series('Memory: requested vs recommended', 'bytes', 6, [
          query('A', `sum(kube_pod_container_resource_requests{resource="memory", namespace="${id.namespace}"} * on (namespace, pod) group_left () group by (namespace, pod) (kube_pod_labels{namespace="${id.namespace}", label_paved_dev_service="${id.name}"}))`, 'requested'),
          query('B', `sum(paved_rightsizing_recommended_request{resource="memory", namespace="${id.namespace}", webservice="${id.name}"})`, 'recommended'),
        ]),
      ),
    )
    .build();
}

/** The sidecar ConfigMap of a WebService's dashboard; none when its metrics are off. */
export function renderServiceDashboard(ws: WebService, id: Identity, spec: NormalizedSpec): V1ConfigMap | undefined {
  if (!spec.observability.metrics.enabled) return undefined;
  const model = renderServiceDashboardModel(id);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(id, ws, dashboardConfigMapName(id.name), { [DASHBOARD_SIDECAR_LABEL]: '1' }),
    data: { [`${id.namespace}-${id.name}.json`]: JSON.stringify(model) },
  };
}
