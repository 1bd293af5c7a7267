/**
 * main.ts as a separate process with the token of a ServiceAccount bound to exactly the shipped RBAC
 * (installControllerIdentities), leading in a namespace of the test: what the RBAC test and the
 * compiled-build test both start. One such file at a time (exclusiveControllerRun): main.ts reconciles
 * every Team in the cluster labelled for controller processes.
 */
import type { KubeClients } from '../../src/kube/index.js';
import { createTestNamespace } from '../support/cluster.js';
import { exclusiveControllerRun, startControllerProcess, type ControllerProcess } from '../support/controller-process.js';
import { removeTeams } from '../process/teams.js';
import { installControllerIdentities, type ControllerIdentity } from './manifests.js';

export interface ShippedController {
  readonly namespace: string;
  readonly identity: ControllerIdentity;
  readonly controller: ControllerProcess;
  /** Removes `teams` (their finalizers need the controller), stops it, removes the identities. */
  stop(teams: string[]): Promise<void>;
}

export async function startShippedController(
  admin: KubeClients,
  opts: { prefix: string; run: string; entry?: 'source' | 'dist' },
): Promise<ShippedController> {
  const release = await exclusiveControllerRun(admin, `${opts.prefix}-${opts.run}`);
  let installed: Awaited<ReturnType<typeof installControllerIdentities>> | undefined;
  let controller: ControllerProcess | undefined;
  const stop = async (teams: string[]) => {
    if (controller?.isRunning()) await removeTeams(admin, teams);
    else await removeTeams(admin, teams, 1);
    await controller?.kill('SIGKILL');
    await installed?.remove();
    await release();
  };
  try {
    const namespace = await createTestNamespace(`paved-${opts.prefix}`);
    installed = await installControllerIdentities(admin, { namespace, suffix: opts.run });
    const identity = installed.identities[0]!;
    controller = startControllerProcess({
      kubeconfigPath: identity.kubeconfigPath,
      podName: `paved-${opts.prefix}-${opts.run}`,
      leaseNamespace: namespace,
      ...(opts.entry ? { entry: opts.entry } : {}),
    });
    await controller.waitForLog('controllers started', 120_000);
    await controller.waitForLog('started leading', 60_000);
    return { namespace, identity, controller, stop };
  } catch (err) {
    await stop([]);
    throw err;
  }
}
