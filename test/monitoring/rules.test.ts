/**
 * paved's Prometheus rules: the committed PrometheusRule and plain rules file are what
 * src/monitoring/rules.ts generates (`npm run gen:monitoring`), `promtool check rules` accepts them,
 * and `promtool test rules` (paved-rules.promtool.yaml: input series, recorded values, alerts) passes.
 * Every alert has a section in docs/install.md, where its runbook_url points.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensurePrometheusBinaries } from '../../src/localcluster/binaries.js';
import { REPOSITORY_ROOT, renderMonitoringFiles } from '../../src/monitoring/files.js';
import { ALERTS, renderRuleGroups, type AlertingRule } from '../../src/monitoring/rules.js';

const run = promisify(execFile);
const TESTS = fileURLToPath(new URL('./paved-rules.promtool.yaml', import.meta.url));

describe('paved rules', () => {
  it('the committed files are the generated ones (run `npm run gen:monitoring` after a change)', () => {
    for (const [path, text] of Object.entries(renderMonitoringFiles())) {
      expect(readFileSync(join(REPOSITORY_ROOT, path), 'utf8'), path).toBe(text);
    }
  });

  it('promtool accepts the rules file and its unit tests pass', async () => {
    const { promtool } = await ensurePrometheusBinaries();
    const check = await run(promtool, ['check', 'rules', join(REPOSITORY_ROOT, 'deploy/prometheus/paved.rules.yaml')]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const result = await run(promtool, ['test', 'rules', TESTS]).catch((err: { stdout?: string; stderr?: string }) => err);
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toMatch(/SUCCESS/);
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).not.toMatch(/FAILED/);
  });

  it('tests every alert, and documents each in docs/install.md', () => {
    const alerts = renderRuleGroups().flatMap((g) => g.rules).filter((r): r is AlertingRule => 'alert' in r).map((r) => r.alert);
    expect(alerts).toEqual([...ALERTS]);
    const tests = readFileSync(TESTS, 'utf8');
    const install = readFileSync(join(REPOSITORY_ROOT, 'docs/install.md'), 'utf8');
    for (const name of alerts) {
      expect(tests, name).toContain(`alertname: ${name}`);
      expect(install, name).toMatch(new RegExp(`^#+ ${name}$`, 'm'));
    }
  });
});
