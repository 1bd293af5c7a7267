/**
 * Golden files: the full rendered output of representative WebServices (one per runtime and tier, public
 * and private, with and without dependencies, with and without Gateway API / prometheus-operator).
 * Update deliberately with `npx vitest run --project unit test/webservice/golden.test.ts -u` and review
 * the diff.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { evaluatePolicies, renderWebService } from '../../src/webservice/index.js';
import { GOLDEN_CASES } from './fixtures.js';

describe('WebService golden files', () => {
  for (const c of GOLDEN_CASES) {
    it(c.file, async () => {
      const result = renderWebService(c.ws, c.ctx);
      const text = stringify(
        { tier: result.tier, revision: result.revision, url: result.url ?? null, objects: result.objects },
        { aliasDuplicateObjects: false, lineWidth: 0 },
      );
      await expect(text).toMatchFileSnapshot(`golden/${c.file}.yaml`);
      // Every golden output is also policy-clean.
      const policy = evaluatePolicies(result.objects, { namespace: c.ws.metadata?.namespace ?? '', allowedRegistries: [] });
      expect(policy.violations).toEqual([]);
    });
  }
});
