/**
 * The local cluster's kubectl (the control-plane binary called by the name kubectl, see
 * src/localcluster/binaries.ts) against the shared cluster, with nothing but it on PATH: the same
 * version as the API server, and the README's `kubectl apply` / `kubectl get teams` work.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKubectl, KUBERNETES_VERSION } from '../../src/localcluster/binaries.js';
import { clusterInfo } from '../support/cluster.js';

const run = promisify(execFile);
let kubectl = '';
const scratch = mkdtempSync(join(tmpdir(), 'paved-kubectl-test-'));
const team = `kubectl-${randomBytes(3).toString('hex')}`;

/** kubectl by its name, found on a PATH that holds nothing else. */
function kubectlRun(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('kubectl', args, { env: { PATH: dirname(kubectl), KUBECONFIG: clusterInfo().kubeconfigPath, HOME: scratch } });
}

beforeAll(async () => {
  kubectl = await ensureKubectl();
});

afterAll(async () => {
  await kubectlRun(['delete', 'team', team, '--ignore-not-found']).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

describe('kubectl of the local cluster', () => {
  it('is the version of the cluster, client and server', async () => {
    const { stdout } = await kubectlRun(['version', '-o', 'json']);
    const version = JSON.parse(stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(version.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
    if (clusterInfo().provider === 'local') expect(version.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
  });

  it('applies a Team from a file and lists it with kubectl get teams', async () => {
    const file = join(scratch, 'team.yaml');
    writeFileSync(file, [
      'apiVersion: paved.dev/v1alpha1',
      'kind: Team',
      'metadata:',
      `  name: ${team}`,
      'spec:',
      '  owners: { groups: [team-kubectl-leads] }',
      '  costCenter: CC-1234',
      '  quota: { tier: small }',
      '',
    ].join('\n'));
    const applied = await kubectlRun(['apply', '-f', file]);
    expect(applied.stdout).toContain(`team.paved.dev/${team} created`);
    const { stdout } = await kubectlRun(['get', 'teams', '-o', 'name']);
    expect(stdout.split('\n')).toContain(`team.paved.dev/${team}`);
  });

  it('exits non-zero with the API server message naming the field for an invalid Team', async () => {
    const file = join(scratch, 'bad-team.yaml');
    writeFileSync(file, `apiVersion: paved.dev/v1alpha1\nkind: Team\nmetadata:\n  name: ${team}-bad\nspec:\n  costCenter: CC-1\n  quota: { tier: huge }\n`);
    const err = await kubectlRun(['apply', '-f', file]).then(() => undefined, (e: unknown) => e as { code: number; stderr: string });
    expect(err?.code).not.toBe(0);
    expect(err?.stderr).toMatch(/spec\.quota\.tier/);
  });
});
