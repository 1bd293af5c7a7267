/**
 * What the image runs works: `npm run build:controller` (the controller half of `npm run build`) compiles src/ to dist/, and `node dist/main.js` (no tsx,
 * no TypeScript at start-up) runs as the shipped ServiceAccount against the real cluster, provisions a
 * Team to Ready and serves the API. No image can be built on this machine; this is the same process the
 * Dockerfile's runtime stage starts.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClients } from '../../src/kube/index.js';
import { adminKubeConfig } from '../support/cluster.js';
import type { ControllerProcess } from '../support/controller-process.js';
import { eventually } from '../support/eventually.js';
import { createTeam, waitReady } from '../process/teams.js';
import { startShippedController, type ShippedController } from '../deploy/shipped-controller.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = randomBytes(3).toString('hex');
const admin = KubeClients.fromKubeConfig(adminKubeConfig());
const teams: string[] = [];
let shipped: ShippedController | undefined;
let controller: ControllerProcess;

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build:controller'], { cwd: ROOT });
  shipped = await startShippedController(admin, { prefix: 'dist', run, entry: 'dist' });
  controller = shipped.controller;
});

afterAll(() => shipped?.stop(teams));

describe('the compiled build (node dist/main.js)', () => {
  it('is JavaScript only: the entry point needs neither tsx nor a .ts file', () => {
    const main = readFileSync(`${ROOT}dist/main.js`, 'utf8');
    expect(main).not.toMatch(/from ['"][^'"]+\.ts['"]/);
    expect(existsSync(`${ROOT}dist/tenancy/reconcile.js`)).toBe(true);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).filter((d) => d === 'tsx' || d === 'typescript' || d.startsWith('@types/'))).toEqual([]);
  });

  it('provisions a Team to Ready and serves the API', async () => {
    const name = `dist-${run}`;
    teams.push(name);
    await createTeam(admin, name, { environments: ['dev'] });
    const team = await waitReady(admin, name, { settled: true });
    expect(team.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    const url = await controller.url();
    // The API reads the same informer caches: the Team is there once the cache has its Ready status.
    await eventually(async () => {
      const res = await fetch(`${url}/api/v1/teams/${name}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { name?: string }).name).toBe(name);
    });
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi?: string };
    expect(doc.openapi).toMatch(/^3\./);
    expect(controller.logs.some((l) => l.stream === 'stderr' && /tsx|\.ts:/.test(l.msg))).toBe(false);
  });
});
