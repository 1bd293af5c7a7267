/**
 * The paved controller as a real child process (`node --import tsx src/main.ts`, or the compiled
 * `node dist/main.js`), for the tests that
 * must kill it: leader election between processes, SIGKILL half-way through a reconcile, the
 * controller running as its own ServiceAccount.
 *
 * It parses the process's pino JSON lines (the API URL, 'started leading', reconcile lines) and never
 * leaves a process behind:
 * - every process started here is SIGKILLed when the test file ends (afterAll) and when this worker
 *   exits normally ('exit' handler);
 * - if the worker itself dies (SIGKILL, crash), each child notices that its parent changed and kills
 *   itself within about a second (a watchdog preloaded with `--import`, so main.ts stays untouched).
 *
 * `exclusiveControllerRun` serializes the test files that run such processes (main.ts reconciles every
 * Team in the cluster, so two files' processes would work on each other's Teams).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { isAlreadyExists, type KubeClients } from '../../src/kube/index.js';

/** The project root: main.ts is started from here so that tsx and crds/ resolve. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Preloaded into the child: SIGKILLs itself as soon as its parent is gone (the child is then re-parented). */
const PARENT_WATCHDOG =
  'data:text/javascript,const p=process.ppid;' +
  'setInterval(()=>{if(process.ppid!==p)process.kill(process.pid,"SIGKILL")},250).unref();';

/** One pino line of the controller (non-JSON lines are kept with `msg` only and level 0). */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What a controller process is started with. */
export interface ControllerProcessOptions {
  /** The kubeconfig main.ts uses (KUBECONFIG). */
  kubeconfigPath: string;
  /** Leader-election identity (POD_NAME). */
  podName: string;
  /** The namespace of the Lease paved-controller (PAVED_LEASE_NAMESPACE); one per test keeps tests apart. */
  leaseNamespace: string;
  /** PAVED_LEASE_DURATION_SECONDS (default 4, the smallest sensible for tests; the minimum is 2). */
  leaseDurationSeconds?: number;
  /** More environment (PAVED_* settings). PAVED_HTTP_PORT defaults to 0 (a free port). */
  env?: Record<string, string>;
  /**
   * What node runs: `source` (default) is `--import tsx src/main.ts`; `dist` is the compiled
   * `dist/main.js` that the image runs (built by `npm run build` first).
   */
  entry?: 'source' | 'dist';
}

/** A running (or finished) controller process. */
export interface ControllerProcess {
  readonly podName: string;
  readonly pid: number;
  /** Every log line so far, in order. */
  readonly logs: readonly LogLine[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  isRunning(): boolean;
  /** The first log line matching `match` (a message or a predicate), waiting for it if needed. */
  waitForLog(match: string | ((line: LogLine) => boolean), timeoutMs?: number): Promise<LogLine>;
  /** True when some line matches. */
  hasLogged(match: string | ((line: LogLine) => boolean)): boolean;
  /** The API base URL from 'paved API listening on ...' (waits for it). */
  url(timeoutMs?: number): Promise<string>;
  /** The Prometheus text of /metrics. */
  metrics(): Promise<string>;
  /** Sends a signal and waits for the exit. SIGKILL is immediate; SIGTERM lets main.ts shut down (release the lease). */
  kill(signal?: 'SIGKILL' | 'SIGTERM', timeoutMs?: number): Promise<ProcessExit>;
  /** The last lines of output, for failure messages. */
  tail(lines?: number): string;
}

const running = new Set<ChildProcess>();

// Registered when a test file imports this module (collection time), so that the file's end kills
// whatever its tests left running; the 'exit' handler covers a worker that ends otherwise.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
try {
  afterAll(async () => {
    await killAllControllerProcesses();
  });
} catch {
  // Imported outside a test file (e.g. a benchmark): the 'exit' handler and the watchdog remain.
}

/** SIGKILLs every controller process this worker started that is still running, and waits for them. */
export async function killAllControllerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

function matcher(match: string | ((line: LogLine) => boolean)): (line: LogLine) => boolean {
  return typeof match === 'string' ? (line) => line.msg === match : match;
}

function parseLine(text: string): LogLine {
  try {
    const obj = JSON.parse(text) as Partial<LogLine>;
    if (obj && typeof obj === 'object' && typeof obj.msg === 'string') {
      return { ...obj, level: Number(obj.level ?? 0), time: Number(obj.time ?? Date.now()), msg: obj.msg };
    }
  } catch {
    // not JSON: kept as raw text below
  }
  return { level: 0, time: Date.now(), msg: text };
}

/**
 * Starts `node --import tsx src/main.ts` with the given kubeconfig and identity. Resolves once the
 * process is spawned; use `waitForLog('controllers started')` or `url()` to wait for it to be up.
 */
export function startControllerProcess(opts: ControllerProcessOptions): ControllerProcess {
  const env: Record<string, string> = {
    // Only what node needs from the outside; everything paved reads is explicit.
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    KUBECONFIG: opts.kubeconfigPath,
    POD_NAME: opts.podName,
    PAVED_HTTP_PORT: '0',
    PAVED_METRICS_PORT: '0',
    // Only the Teams and WebServices labelled for controller processes (test/process/teams.ts).
    PAVED_SELECTOR: 'paved.dev/test-scope=controller-process',
    PAVED_HTTP_HOST: '127.0.0.1',
    PAVED_LEADER_ELECTION: 'true',
    PAVED_LEASE_NAMESPACE: opts.leaseNamespace,
    PAVED_LEASE_DURATION_SECONDS: String(opts.leaseDurationSeconds ?? 4),
    // The host map next to the Lease: per test, never the cluster's paved-system/paved-hosts.
    PAVED_HOST_MAP: `${opts.leaseNamespace}/paved-hosts`,
    PAVED_LOG_LEVEL: 'info',
    ...opts.env,
  };
  const entry = opts.entry === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, ['--import', PARENT_WATCHDOG, ...entry], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  const logs: LogLine[] = [];
  const listeners = new Set<(line: LogLine) => void>();
  const push = (line: LogLine) => {
    logs.push(line);
    for (const l of listeners) l(line);
  };
  createInterface({ input: child.stdout }).on('line', (text) => push(parseLine(text)));
  createInterface({ input: child.stderr }).on('line', (text) => push({ level: 0, time: Date.now(), msg: text, stream: 'stderr' }));

  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', () => {
      running.delete(child);
      exit = { code: null, signal: null };
      resolve(exit);
    });
  });

  const tail = (n = 30) =>
    logs
      .slice(-n)
      .map((l) => (l.level === 0 ? l.msg : JSON.stringify(l)))
      .join('\n');

  const waitForLog = (match: string | ((line: LogLine) => boolean), timeoutMs = 60_000): Promise<LogLine> => {
    const test = matcher(match);
    const found = logs.find(test);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        listeners.delete(onLine);
      };
      const onLine = (line: LogLine) => {
        if (test(line)) {
          done();
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`controller ${opts.podName}: no matching log line within ${timeoutMs} ms; last lines:\n${tail()}`));
      }, timeoutMs);
      listeners.add(onLine);
      void exited.then((e) => {
        // Let the last lines of output arrive before giving up.
        setTimeout(() => {
          if (!listeners.has(onLine)) return;
          done();
          reject(new Error(`controller ${opts.podName} exited (${e.code ?? e.signal}) before the awaited log line; last lines:\n${tail()}`));
        }, 100);
      });
    });
  };

  const url = async (timeoutMs = 60_000) => {
    const line = await waitForLog((l) => typeof l['url'] === 'string' && l.msg.startsWith('paved API listening on'), timeoutMs);
    return line['url'] as string;
  };

  return {
    podName: opts.podName,
    pid: child.pid ?? -1,
    logs,
    exited,
    isRunning: () => exit === undefined,
    waitForLog,
    hasLogged: (match) => logs.some(matcher(match)),
    url,
    async metrics() {
      const res = await fetch(`${await url()}/metrics`);
      return res.text();
    },
    async kill(signal = 'SIGKILL', timeoutMs = 30_000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    tail,
  };
}

/** The value of one Prometheus sample (`name{labels}`), summed over series matching every given label. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** The Lease (in `default`) that serializes the test files running controller processes. */
const RUN_LOCK = { namespace: 'default', name: 'paved-test-controller-processes' };
const RUN_LOCK_STALE_MS = 30_000;

/**
 * Waits until no other test file runs controller processes, then holds that right until the returned
 * function is called. Needed because main.ts reconciles every Team in the cluster: two files' processes
 * would provision each other's Teams and blur who wrote what. Other test files are not affected (their
 * in-process controllers handle only their own Teams). A holder that stops renewing for 30 s (a dead
 * worker) loses the lock.
 */
export async function exclusiveControllerRun(admin: KubeClients, holder: string, timeoutMs = 280_000): Promise<() => Promise<void>> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${RUN_LOCK.namespace}/leases`;
  const body = (resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: RUN_LOCK.name, namespace: RUN_LOCK.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { holderIdentity: holder, renewTime: new Date().toISOString().replace(/Z$/, '000Z') },
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.request({ method: 'POST', path, body: body() });
      break;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    // Held by someone: take it over only when its holder stopped renewing.
    const current = await admin
      .request<{ metadata: { resourceVersion: string }; spec?: { renewTime?: string } }>({ method: 'GET', path: `${path}/${RUN_LOCK.name}` })
      .catch(() => undefined);
    if (current && Date.now() - Date.parse(current.spec?.renewTime ?? '') > RUN_LOCK_STALE_MS) {
      const took = await admin
        .request({ method: 'PUT', path: `${path}/${RUN_LOCK.name}`, body: body(current.metadata.resourceVersion) })
        .then(() => true, () => false);
      if (took) break;
    }
    if (Date.now() > deadline) throw new Error(`another test file held ${RUN_LOCK.namespace}/${RUN_LOCK.name} for more than ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const renew = setInterval(() => {
    void admin
      .request<{ metadata: { resourceVersion: string }; spec?: { holderIdentity?: string } }>({ method: 'GET', path: `${path}/${RUN_LOCK.name}` })
      .then(async (cur) => {
        if (cur.spec?.holderIdentity === holder) {
          await admin.request({ method: 'PUT', path: `${path}/${RUN_LOCK.name}`, body: body(cur.metadata.resourceVersion) });
        }
      })
      .catch(() => undefined);
  }, 5_000);
  renew.unref();
  return async () => {
    clearInterval(renew);
    const cur = await admin
      .request<{ metadata: { uid: string }; spec?: { holderIdentity?: string } }>({ method: 'GET', path: `${path}/${RUN_LOCK.name}` })
      .catch(() => undefined);
    if (cur?.spec?.holderIdentity !== holder) return;
    await admin
      .request({ method: 'DELETE', path: `${path}/${RUN_LOCK.name}`, body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: cur.metadata.uid } } })
      .catch(() => undefined);
  };
}
