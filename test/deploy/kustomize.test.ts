/**
 * The kustomize layouts of deploy/ as kubectl builds them: `kubectl apply -k deploy/` installs every
 * shipped file (nothing listed twice or forgotten in a kustomization), `deploy/base` leaves the
 * prometheus-operator kinds out, `deploy/overlays/audit` turns every admission binding to Audit+Warn,
 * and no layout grants a wildcard or impersonates more than it must. Whether the API server accepts
 * the objects: kustomize.int.test.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { renderPrometheusRule } from '../../src/monitoring/rules.js';
import { ADMISSION_DIR, PAVED_DIR, loadManifests, type Doc } from './manifests.js';
import { DEPLOY_DIR, LAYOUTS, buildLayout, objectRef } from './kustomize.js';

const ROOT = join(DEPLOY_DIR, '..');
const refs = (docs: Doc[]) => docs.map(objectRef).sort();
const shippedFiles = (dir: string) => loadManifests(dir).map((m) => m.doc);

describe('kubectl kustomize deploy/', () => {
  it('installs every shipped object exactly once: namespace, CRDs, RBAC, config, workload, templates, policies, monitoring', async () => {
    const docs = await buildLayout('.');
    const expected = [
      ...shippedFiles(PAVED_DIR),
      ...shippedFiles(join(ROOT, 'crds')),
      ...shippedFiles(join(ROOT, 'analysis-templates')),
      ...shippedFiles(ADMISSION_DIR),
      ...shippedFiles(join(DEPLOY_DIR, 'components/monitoring')),
    ];
    expect(refs(docs)).toEqual(refs(expected));
    expect(new Set(refs(docs)).size).toBe(docs.length);
    const kinds = new Set(docs.map((d) => d.kind));
    for (const kind of [
      'Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding',
      'ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule',
      'ClusterAnalysisTemplate', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
    ]) expect(kinds, kind).toContain(kind);
    expect(docs.filter((d) => d.kind === 'ClusterAnalysisTemplate')).toHaveLength(4);
  });

  it('runs the compiled build', async () => {
    const deployment = (await buildLayout('.')).find((d) => d.kind === 'Deployment');
    expect(deployment?.spec.template.spec.containers[0].command).toEqual(['node', 'dist/main.js']);
  });

  it('ships the PrometheusRule generated from src/monitoring/rules.ts, and the same groups as a plain rules file', async () => {
    const rule = (await buildLayout('.')).find((d) => d.kind === 'PrometheusRule');
    expect(rule).toEqual(renderPrometheusRule());
    const plain = parse(readFileSync(join(DEPLOY_DIR, 'prometheus/paved.rules.yaml'), 'utf8')) as { groups: unknown };
    expect(plain.groups).toEqual(rule?.spec.groups);
  });

  it('enforces the admission policies; deploy/base is the same without the prometheus-operator kinds', async () => {
    const all = await buildLayout('.');
    const base = await buildLayout('base');
    expect(refs(base)).toEqual(refs(all.filter((d) => !String(d.apiVersion).startsWith('monitoring.coreos.com/'))));
    const tenancy = all.filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding' && !d.metadata.name.endsWith('-audit'));
    expect(tenancy.length).toBeGreaterThan(0);
    for (const b of tenancy) expect(b.spec.validationActions, b.metadata.name).toEqual(['Deny']);
  });

  it('overlays/audit: the same objects, every binding Audit+Warn', async () => {
    const all = await buildLayout('.');
    const audit = await buildLayout('overlays/audit');
    expect(refs(audit)).toEqual(refs(all));
    const bindings = audit.filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding');
    expect(bindings.length).toBe(all.filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding').length);
    for (const b of bindings) expect(b.spec.validationActions, b.metadata.name).toEqual(['Audit', 'Warn']);
    // Nothing else changes.
    const strip = (docs: Doc[]) => docs.filter((d) => d.kind !== 'ValidatingAdmissionPolicyBinding');
    expect(strip(audit)).toEqual(strip(all));
  });
});

describe('RBAC of every layout', () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: no wildcard verb, resource or group; impersonate only the team deployers (paved-deployer ServiceAccounts)`, async () => {
      const roles = (await buildLayout(layout)).filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole');
      expect(roles.length).toBeGreaterThan(0);
      let impersonating = 0;
      for (const role of roles) {
        for (const rule of role.rules as Doc[]) {
          const where = `${objectRef(role)} ${JSON.stringify(rule)}`;
          expect(rule.verbs, where).not.toContain('*');
          expect(rule.resources ?? [], where).not.toContain('*');
          expect(rule.apiGroups ?? [], where).not.toContain('*');
          expect(rule.nonResourceURLs ?? [], where).toEqual([]);
          if (!rule.verbs.includes('impersonate')) continue;
          // No users, groups, uids, userextras or other ServiceAccounts: the deployer identity, by name.
          impersonating++;
          expect(rule.verbs, where).toEqual(['impersonate']);
          expect(rule.apiGroups, where).toEqual(['']);
          expect(rule.resources, where).toEqual(['serviceaccounts']);
          expect(rule.resourceNames, where).toEqual(['paved-deployer']);
        }
      }
      expect(impersonating).toBeGreaterThan(0);
    });
  }
});
