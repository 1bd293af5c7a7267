/**
 * The exporter-shaped cost history of the shape tests (exporter-shapes.int.test.ts, and the recorded
 * series test recorded.int.test.ts, which answers the same questions from the recording rules): one
 * day of pods shaped the way kube-state-metrics and cAdvisor export them, ending at STANDARD_END.
 */
import { STANDARD_END, type ContainerShape, type CostHistory } from '../support/cost-history.js';

const HOUR = 3600;
const MIN = 60;
const GIB = 1024 ** 3;
export const END = STANDARD_END;
export const DAY_START = END - 24 * HOUR; // the day the shapes happen in
export const at = (h: number, m = 0): number => DAY_START + h * HOUR + m * MIN;
export const TEAMS = ['shape-a', 'shape-b', 'shape-empty'];

function pod(namespace: string, service: string, name: string, cpu: [number, number], memGiB: [number, number], extra: Partial<ContainerShape> = {}): ContainerShape {
  return {
    team: '',
    environment: 'prod',
    namespace,
    service,
    pod: name,
    container: 'main',
    cpuRequest: () => cpu[0],
    cpuUsage: () => cpu[1],
    memoryRequest: () => memGiB[0] * GIB,
    memoryUsage: () => memGiB[1] * GIB,
    ...extra,
  };
}

export const history: CostHistory = {
  startSeconds: END - 48 * HOUR,
  hours: 48,
  resolutionSeconds: 300,
  namespaces: [
    { namespace: 'shape-batch', team: 'shape-a', environment: 'prod' },
    // Moves from shape-a to shape-b at 10:30.
    { namespace: 'shape-web', team: 'shape-a', environment: 'prod', moveTo: { at: at(10, 30), team: 'shape-b', environment: 'prod' } },
    { namespace: 'shape-b-home', team: 'shape-b', environment: 'prod' },
  ],
  containers: [
    // 20 minutes inside hour 2.
    pod('shape-batch', 'ci', 'ci-1', [2, 1.5], [4, 3], { runsFrom: at(2, 10), runsUntil: at(2, 30) }),
    // 03:50 to 04:20, across the hour boundary.
    pod('shape-batch', 'ci', 'ci-2', [1, 0.8], [2, 1], { runsFrom: at(3, 50), runsUntil: at(4, 20) }),
    // A Job pod: runs 05:00-05:40, then stays listed (Succeeded) until the end of the history.
    pod('shape-batch', 'report-job', 'report-job-x7k2p', [1, 0.9], [1, 0.5], { runsFrom: at(5), runsUntil: at(5, 40), listedUntil: END }),
    // Restarted at 07:25 with a new container id; its CPU counter starts again at 0.
    pod('shape-batch', 'api', 'api-0', [0.5, 0.3], [1, 0.8], { restartAt: at(7, 25) }),
    pod('shape-web', 'web', 'web-0', [1, 0.4], [1, 0.5]),
    // paved.dev/service changes from old-name to new-name at 12:20.
    pod('shape-b-home', 'old-name', 'svc-0', [0.25, 0.1], [0.5, 0.25], { relabel: { at: at(12, 20), service: 'new-name' } }),
  ],
  pvcs: [],
  rollouts: [],
};

