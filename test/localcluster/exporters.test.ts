/** The pure parts of the exporters' wiring: the label allowlist flag and kwok's scrape targets. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ksmLabelAllowlist, kwokScrapeTargets } from '../../src/localcluster/exporters.js';

describe('exporters wiring', () => {
  it('allowlists the labels the cost queries join on, in kube-state-metrics flag syntax', () => {
    expect(ksmLabelAllowlist()).toBe('namespaces=[paved.dev/team,paved.dev/environment],pods=[paved.dev/service]');
  });

  it('scrapes one kwok path per node, over https, labelled with the node', () => {
    expect(kwokScrapeTargets('127.0.0.1:4000', ['n-0', 'n-1'])).toEqual([
      { job: 'kubelet-resource', hostPort: '127.0.0.1:4000', metricsPath: '/metrics/nodes/n-0/metrics/resource', scheme: 'https', labels: { node: 'n-0' } },
      { job: 'kubelet-resource', hostPort: '127.0.0.1:4000', metricsPath: '/metrics/nodes/n-1/metrics/resource', scheme: 'https', labels: { node: 'n-1' } },
    ]);
  });

  it('starts the extras of the local stack unless PAVED_LOCAL_EXTRAS=false, and names a bad value', () => {
    expect(loadConfig({}).PAVED_LOCAL_EXTRAS).toBe(true);
    expect(loadConfig({ PAVED_LOCAL_EXTRAS: 'false' }).PAVED_LOCAL_EXTRAS).toBe(false);
    expect(() => loadConfig({ PAVED_LOCAL_EXTRAS: 'no' })).toThrow(/PAVED_LOCAL_EXTRAS/);
  });
});
