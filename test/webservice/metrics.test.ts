import { describe, expect, it } from 'vitest';
import { countByTier } from '../../src/webservice/index.js';
import { newViolations } from '../../src/webservice/metrics.js';
import { dependencyKeys } from '../../src/webservice/reconcile.js';
import { webService } from './fixtures.js';

describe('webservice metrics and indexes', () => {
  it('counts WebServices per golden-path tier', () => {
    const list = [
      webService('a', 'n', { image: 'x:1' }),
      webService('b', 'n', { image: 'x:1', overrides: { args: ['-v'] } }),
      webService('c', 'n', { image: 'x:1', advanced: { extraManifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' } }] } }),
      webService('d', 'n', { image: 'x:1' }),
    ];
    expect(countByTier(list)).toEqual({ managed: 2, configured: 1, advanced: 1 });
  });

  it('counts a violation once, when it first appears', () => {
    const v = { policy: 'no-latest-tag', object: 'Deployment/a', field: 'f', message: 'm', mode: 'audit' as const };
    expect(newViolations(undefined, [v])).toEqual([v]);
    expect(newViolations([v], [v])).toEqual([]);
    expect(newViolations([{ ...v, mode: 'enforce' }], [v])).toEqual([v]);
  });

  it('indexes dependencies by namespace/service', () => {
    const ws = webService('a', 'team-a', { image: 'x:1', networking: { dependencies: [{ service: 'db' }, { service: 'pay', namespace: 'team-b' }] } });
    expect(dependencyKeys(ws)).toEqual(['team-a/db', 'team-b/pay']);
  });
});
