import { describe, expect, it } from 'vitest';
import { formatLabelSelector, matchesLabelSelector, parseLabelSelector } from '../../src/kube/labels.js';
import { keyOf, objectKey, splitKey } from '../../src/kube/keys.js';
import { ApiCallCounter, classifyRequest } from '../../src/kube/api-counter.js';
import { isConflict, isNotFound, isAlreadyExists, kubeApiErrorFrom, toKubeApiError } from '../../src/kube/api-errors.js';
import { mapToLabel, mapToOwner } from '../../src/kube/controller.js';

describe('label selectors', () => {
  const labels = { team: 'a', env: 'prod', tier: 'web' };
  it('parses and matches equality and set requirements', () => {
    expect(matchesLabelSelector(labels, 'team=a,env in (prod, dev),!missing,tier')).toBe(true);
    expect(matchesLabelSelector(labels, 'team!=a')).toBe(false);
    expect(matchesLabelSelector(labels, 'env notin (prod)')).toBe(false);
    expect(matchesLabelSelector(labels, 'team==a')).toBe(true);
    expect(matchesLabelSelector(labels, { team: 'a', env: 'prod' })).toBe(true);
    expect(matchesLabelSelector(labels, { team: 'b' })).toBe(false);
    expect(matchesLabelSelector(undefined, '')).toBe(true);
    expect(parseLabelSelector('a in (x,y)')).toEqual([{ key: 'a', operator: 'In', values: ['x', 'y'] }]);
    expect(formatLabelSelector({ b: '2', a: '1' })).toBe('a=1,b=2');
  });
});

describe('keys', () => {
  it('round-trips namespaced and cluster-scoped keys', () => {
    expect(objectKey({ metadata: { namespace: 'ns', name: 'x' } })).toBe('ns/x');
    expect(objectKey({ metadata: { name: 'team-a' } })).toBe('team-a');
    expect(splitKey('ns/x')).toEqual({ namespace: 'ns', name: 'x' });
    expect(splitKey('team-a')).toEqual({ name: 'team-a' });
    expect(keyOf(undefined, 'n')).toBe('n');
  });

  it('maps children to owner keys', () => {
    const child = {
      metadata: {
        namespace: 'team-a-dev',
        name: 'q',
        labels: { 'paved.dev/team': 'team-a' },
        ownerReferences: [
          { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', name: 'web', uid: '1' },
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'dep', uid: '2' },
        ],
      },
    };
    expect(mapToOwner({ kind: 'WebService', apiVersion: 'paved.dev/v1alpha1' })(child)).toEqual(['team-a-dev/web']);
    expect(mapToOwner({ kind: 'WebService', apiVersion: 'other.dev/v1' })(child)).toEqual([]);
    expect(mapToOwner({ kind: 'Deployment', clusterScoped: true })(child)).toEqual(['dep']);
    expect(mapToLabel('paved.dev/team')(child)).toEqual(['team-a']);
    expect(mapToLabel('paved.dev/team', { namespaced: true })(child)).toEqual(['team-a-dev/team-a']);
    expect(mapToLabel('absent')(child)).toEqual([]);
  });
});

describe('API request classification and counting', () => {
  it('classifies verbs and resources', () => {
    expect(classifyRequest('GET', 'https://h/api/v1/namespaces/ns/configmaps/x')).toEqual({ verb: 'get', resource: 'configmaps' });
    expect(classifyRequest('GET', 'https://h/api/v1/namespaces/ns/configmaps')).toEqual({ verb: 'list', resource: 'configmaps' });
    expect(classifyRequest('GET', 'https://h/api/v1/namespaces/ns')).toEqual({ verb: 'get', resource: 'namespaces' });
    expect(classifyRequest('GET', 'https://h/api/v1/namespaces')).toEqual({ verb: 'list', resource: 'namespaces' });
    expect(classifyRequest('GET', 'https://h/apis/paved.dev/v1alpha1/teams?watch=true')).toEqual({ verb: 'watch', resource: 'teams.paved.dev' });
    expect(classifyRequest('PATCH', 'https://h/apis/paved.dev/v1alpha1/teams/a/status', 'application/merge-patch+json')).toEqual({ verb: 'patch', resource: 'teams.paved.dev/status' });
    expect(classifyRequest('PATCH', 'https://h/apis/apps/v1/namespaces/n/deployments/d?fieldManager=paved', 'application/apply-patch+yaml')).toEqual({ verb: 'apply', resource: 'deployments.apps' });
    expect(classifyRequest('POST', 'https://h/apis/events.k8s.io/v1/namespaces/n/events')).toEqual({ verb: 'create', resource: 'events.events.k8s.io' });
    expect(classifyRequest('PUT', 'https://h/apis/coordination.k8s.io/v1/namespaces/n/leases/l')).toEqual({ verb: 'update', resource: 'leases.coordination.k8s.io' });
    expect(classifyRequest('DELETE', 'https://h/api/v1/namespaces/n')).toEqual({ verb: 'delete', resource: 'namespaces' });
    expect(classifyRequest('GET', 'https://h/apis/apps/v1')).toEqual({ verb: 'discovery', resource: 'apps' });
  });

  it('counts writes separately from reads', () => {
    const c = new ApiCallCounter();
    c.record({ verb: 'get', resource: 'configmaps', code: 200 });
    c.record({ verb: 'apply', resource: 'configmaps', code: 200 });
    c.record({ verb: 'patch', resource: 'teams.paved.dev/status', code: 200 });
    expect(c.writes()).toBe(2);
    expect(c.writes({ resource: 'teams.paved.dev' })).toBe(1);
    expect(c.count({ verb: 'get' })).toBe(1);
    expect(c.snapshot()).toEqual({ 'apply configmaps': 1, 'get configmaps': 1, 'patch teams.paved.dev/status': 1 });
    c.reset();
    expect(c.totalRequests).toBe(0);
  });
});

describe('API errors', () => {
  it('maps status codes and client-node exceptions', () => {
    expect(isNotFound(kubeApiErrorFrom(404, '{"reason":"NotFound","message":"x not found"}'))).toBe(true);
    expect(isAlreadyExists(kubeApiErrorFrom(409, { reason: 'AlreadyExists' }))).toBe(true);
    expect(isConflict(kubeApiErrorFrom(409, { reason: 'AlreadyExists' }))).toBe(false);
    expect(isConflict(kubeApiErrorFrom(409, { reason: 'Conflict' }))).toBe(true);
    const apiException = Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: '{"reason":"NotFound"}' });
    expect(toKubeApiError(apiException)?.reason).toBe('NotFound');
    expect(toKubeApiError(new Error('plain'))).toBeUndefined();
  });
});
