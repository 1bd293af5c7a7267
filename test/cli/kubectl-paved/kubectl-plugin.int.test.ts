/**
 * kubectl-paved end to end: the real, version-matched kubectl (~/.cache/paved/bin/kubectl, built by the
 * set-up) discovers the plugin on PATH and runs it against the shared local cluster while both
 * controllers drive a real rollout (traffic emitter + Prometheus, as in test/delivery/rollout*.int.test.ts).
 * `--watch` runs in a tmux pseudo-terminal and is read back from the screen.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { clusterInfo } from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';
import { ERROR_RATE_QUERY, SLOW, release, rolloutFixture } from '../../delivery/stack.js';

const run = promisify(execFile);
const KUBECTL = join(homedir(), '.cache/paved/bin/kubectl');
const fx = rolloutFixture();

/** A PATH holding only `kubectl-paved` (a link to the package's bin shim) in front of node's. */
function pluginPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-paved-'));
  symlinkSync(resolve('bin/kubectl-paved.js'), join(dir, 'kubectl-paved'));
  return `${dir}:${process.env.PATH ?? ''}`;
}
const PATH = pluginPath();

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl paved ARGS` through the real kubectl binary, as the admin unless a kubeconfig is given. */
async function kubectl(args: string[], kubeconfig = clusterInfo().kubeconfigPath): Promise<Result> {
  try {
    const r = await run(KUBECTL, ['paved', ...args], { env: { ...process.env, PATH, KUBECONFIG: kubeconfig, NO_COLOR: '1' }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('kubectl paved through the real kubectl', () => {
  it('kubectl finds the plugin on PATH', async () => {
    expect(existsSync(KUBECTL)).toBe(true);
    const r = await run(KUBECTL, ['plugin', 'list'], { env: { ...process.env, PATH } });
    expect(r.stdout).toMatch(/kubectl-paved/);
  });

  it('shows the steps and weights of a rollout in progress, refuses team B, and abort rolls back', async () => {
    // a gate of 100 measurements holds the rollout at 10% for the whole test
    const env = await fx.setup('plugin-get', [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, count: 100 }]);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    const tree = await eventually(async () => {
      const r = await kubectl(['get', 'ws', 'shop', '-n', env.ns]);
      expect(r).toMatchObject({ code: 0 });
      expect(r.stdout).toMatch(/▶ 2\. +analysis gate/);
      expect(r.stdout).toMatch(/error-rate \(AnalysisTemplate\/gate\) +Running +condition: result <= 0.05/);
      expect(r.stdout).toMatch(/value=\d/);
      return r.stdout;
    }, SLOW);
    expect(tree).toContain('Status:       Progressing (step 2/5 at 10%)');
    expect(tree).toContain('stable 90%  canary 10%  (route)');
    expect(tree).toMatch(/✔ 1\. +setWeight 10/);
    expect(tree).toMatch(/├── Deployment shop +stable .* 2\/2 ready/);
    expect(tree).toMatch(/└── Deployment shop-canary +canary .* 1\/1 ready/);
    expect(tree).toMatch(/Pod shop-canary-\S+ +Ready/);

    const table = await kubectl(['get', 'ws', '-n', env.ns]);
    expect(table.stdout).toMatch(/^NAME +IMAGE +READY +AVAILABLE +ROLLOUT +AGE\nshop +ghcr.io\/acme\/shop:2.0.0 .*Progressing 2\/5 10%/);
    const json = await kubectl(['get', 'ws', 'shop', '-n', env.ns, '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'WebService', status: { rollout: { phase: 'Progressing', weight: 10, stepIndex: 1 } } });
    const teams = await kubectl(['get', 'teams']);
    expect(teams.code).toBe(0);
    expect(teams.stdout).toMatch(/^(NAME +TIER +COST-CENTER +NAMESPACES +READY +AGE\n|No resources found\n)/);
    const all = await kubectl(['get', 'ws', '-A']);
    expect(all.stdout).toMatch(new RegExp(`^NAMESPACE +NAME .*\\n(.*\\n)*${env.ns} +shop `));

    // bob (group team-b) has no rights in this namespace: the API server's RBAC message, exit code 4
    const bob = inject('cluster').identityKubeconfigs.bob;
    expect(bob, 'the local cluster provides a kubeconfig for bob').toBeDefined();
    const refused = await kubectl(['abort', 'shop', '-n', env.ns], bob);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(new RegExp(`Error from server \\(Forbidden\\): webservices.paved.dev "shop" is forbidden: User "bob" cannot patch resource "webservices" in API group "paved.dev" in the namespace "${env.ns}"`));
    expect((await env.k.rollout('shop')).phase).toBe('Progressing');

    // alice (group team-a) is given patch on webservices here: the same command goes through for her
    await env.k.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'webservice-operator' },
      rules: [{ apiGroups: ['paved.dev'], resources: ['webservices'], verbs: ['get', 'patch'] }],
    } as never);
    await env.k.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'team-a-operates' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'webservice-operator' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a' }],
    } as never);
    const alice = inject('cluster').identityKubeconfigs.alice!;
    const paused = await eventually(async () => {
      const r = await kubectl(['pause', 'shop', '-n', env.ns], alice);
      expect(r.code).toBe(0);
      return r;
    }, SLOW);
    expect(paused.stdout).toMatch(/shop pause requested/);
    await eventually(async () => expect(await env.k.rollout('shop')).toMatchObject({ phase: 'Paused', pauseReason: 'Manual' }), SLOW);

    const aborted = await kubectl(['abort', 'shop', '-n', env.ns]);
    expect(aborted).toMatchObject({ code: 0, stdout: expect.stringMatching(/^webservice.paved.dev\/shop abort requested \(paved.dev\/rollout-action=abort@[0-9a-f]+\)/) });
    const after = await eventually(async () => {
      const r = await kubectl(['get', 'ws', 'shop', '-n', env.ns]);
      expect(r.stdout).toMatch(/Status: +RolledBack .*Aborted/);
      return r.stdout;
    }, SLOW);
    expect(after).toContain('stable 100%  canary 0%');
    expect(after).toMatch(/Last rollouts:\n.*\n +\S+ +RolledBack .*Aborted/);
    expect((await env.k.deployment('shop'))?.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/acme/shop:1.0.0');

    expect((await kubectl(['get', 'ws', 'nope', '-n', env.ns])).code).toBe(3);
  });

  it('--watch in a terminal shows the weight move from 10 to 50 to 100', async () => {
    const env = await fx.setup('plugin-watch', [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05, count: 3 }]);
    const socket = `kubectl-paved-${env.ns}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const command = `env PATH='${PATH}' KUBECONFIG='${clusterInfo().kubeconfigPath}' ${KUBECTL} paved get ws shop -n ${env.ns} --watch`;
    tmux('new-session', '-d', '-s', 'watch', '-x', '200', '-y', '80', command);
    fx.cleanups.push(async () => void tmux('kill-server'));
    const screen = () => tmux('capture-pane', '-p', '-t', 'watch');
    await eventually(() => expect(screen()).toContain('stable 100%  canary 0%  (route)'), SLOW);

    // every frame the terminal received, so that no redraw between two screen reads is missed
    const frames = join(mkdtempSync(join(tmpdir(), 'kubectl-paved-watch-')), 'pane.log');
    tmux('pipe-pane', '-t', 'watch', '-o', `cat >> '${frames}'`);
    await release(env, 'ghcr.io/acme/shop:2.0.0');
    await eventually(() => {
      const text = screen();
      expect(text).toMatch(/Status: +Progressing/);
    }, SLOW);
    // Healthy comes with the WebService's event and the route's return to 0% with the HTTPRoute's: wait for both.
    await eventually(() => {
      const text = screen();
      expect(text).toMatch(/Status: +Healthy/);
      expect(text).toContain('canary 0%  (route)');
    }, { timeoutMs: 180_000, intervalMs: 250 });
    const seen: number[] = [];
    for (const m of readFileSync(frames, 'utf8').matchAll(/canary (\d+)%  \(route\)/g)) if (seen.at(-1) !== Number(m[1])) seen.push(Number(m[1]));
    // frames before the rollout starts (the spec change itself) still show 0%
    const start = seen.indexOf(10);
    expect(seen.slice(0, start).every((w) => w === 0)).toBe(true);
    expect(seen.slice(start)).toEqual([10, 50, 100, 0]);
    await eventually(() => expect(env.weights).toEqual([0, 10, 50, 100, 0]), SLOW);
  });
});
