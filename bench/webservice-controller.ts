/**
 * The WebService controller of bench/webservice.ts in a process of its own, so that its resident memory
 * is the controller's and not the benchmark's (the parent holds the cluster, the specs and the minimal
 * loop). bench/webservice.ts compiles it and forks it with the Deployment's heap cap; it is not run by hand.
 *
 * It starts the controller as main.ts wires it (shared informer factory, delivery on), reports to the
 * parent over IPC when its informers have synced, waits until every WebService is applied (and, from
 * scratch, Available) with the queue idle, then resyncs every cache and counts the writes that caused.
 *
 *   (forked) bench/webservice-controller.ts --kubeconfig FILE --services N --workers 8 --mode scratch|precreate [--heap-snapshot FILE]
 */
import v8 from 'node:v8';
import { pino } from 'pino';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClients, createInformerFactory } from '../src/kube/index.js';
import { DEFAULT_PLATFORM, createWebServiceController, type WebServiceController } from '../src/webservice/index.js';
import { benchArgs } from './args.js';

/** A process's memory: as found, and after full garbage collections (the live heap). */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  rssAfterGc: number;
  heapUsedAfterGc: number;
  /** After the collections: the V8 heap the process holds, and memory outside it (buffers, code, native). */
  heapTotalAfterGc: number;
  externalAfterGc: number;
}

/** What the controller process tells bench/webservice.ts, in order. */
export type ControllerReport =
  | { kind: 'ready'; startSec: number; scopes: number; memory: MemoryFigures }
  | { kind: 'applied'; at: number }
  | { kind: 'available'; at: number }
  | { kind: 'synced'; at: number; writes: number; byVerb: string; cpuSec: number; memory: MemoryFigures }
  | { kind: 'resynced'; writes: number; diff: string; memory: MemoryFigures; watches: number; caches: string };

/** Time to wait for any one phase. */
const PHASE_TIMEOUT_MS = 90 * 60_000;

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function memoryFigures(): Promise<MemoryFigures> {
  const { rss, heapUsed } = process.memoryUsage();
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = process.memoryUsage();
  const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
  process.stderr.write(`[controller] after GC: rss ${mib(after.rss)} MiB, heapTotal ${mib(after.heapTotal)}, heapUsed ${mib(after.heapUsed)}, external ${mib(after.external)}, arrayBuffers ${mib(after.arrayBuffers)}; spaces (size/used) ${v8.getHeapSpaceStatistics().map((sp) => `${sp.space_name} ${mib(sp.space_size)}/${mib(sp.space_used_size)}`).join(', ')}\n`);
  return { rss, heapUsed, rssAfterGc: after.rss, heapUsedAfterGc: after.heapUsed, heapTotalAfterGc: after.heapTotal, externalAfterGc: after.external };
}

const writesByVerb = (clients: KubeClients): string =>
  Object.entries(clients.counter.snapshot())
    .filter(([k]) => /^(create|update|patch|apply|delete)/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

const watchesOf = (clients: KubeClients): number =>
  Object.entries(clients.counter.snapshot()).filter(([k]) => k.startsWith('watch ')).reduce((s, [, v]) => s + v, 0);

/** What each informer holds: objects and their size as JSON (a proxy of the heap they take). */
function cacheFigures(wc: WebServiceController): string {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
  return [...new Set(wc.informers)]
    .map((inf) => {
      const objs = inf.list();
      return { kind: inf.kind, n: objs.length, bytes: objs.reduce((n, o) => n + JSON.stringify(o).length, 0) };
    })
    .sort((a, b) => b.bytes - a.bytes)
    .map((c) => `${c.kind} ${c.n} (${mib(c.bytes)} MiB JSON${c.n ? `, ${(c.bytes / c.n / 1024).toFixed(1)} KiB each` : ''})`)
    .join(', ');
}

/** Resyncs every cache (every key reconciles again) and counts the writes it caused, by verb and resource. */
async function steadyResync(wc: WebServiceController, clients: KubeClients, idle: () => boolean): Promise<{ writes: number; diff: string }> {
  await new Promise((r) => setTimeout(r, 2_000));
  await waitFor('queue idle', idle);
  const before = clients.counter.writes();
  const snapBefore = clients.counter.snapshot();
  for (const inf of wc.informers) inf.resync();
  await waitFor('resync idle', idle);
  const diff = Object.entries(clients.counter.snapshot())
    .map(([k, v]) => [k, v - (snapBefore[k] ?? 0)] as const)
    .filter(([k, d]) => d > 0 && !/^(get|list|watch) /.test(k));
  return { writes: clients.counter.writes() - before, diff: diff.length ? ` (${diff.map(([k, d]) => `${k}: ${d}`).join(', ')})` : '' };
}

async function main(): Promise<void> {
  const flags = benchArgs({ kubeconfig: '', services: 0, workers: 8, mode: 'precreate', 'heap-snapshot': '' });
  const send = (r: ControllerReport): void => void process.send?.(r);
  const kc = new KubeConfig();
  kc.loadFromFile(flags.kubeconfig);
  const clients = KubeClients.fromKubeConfig(kc);
  const logger = pino({ level: 'warn' });
  const informers = createInformerFactory({ clients, logger, resyncPeriodMs: 0 });
  const wc = await createWebServiceController({
    clients, platform: DEFAULT_PLATFORM, workers: flags.workers, logger, informers,
    delivery: { provider: { query: () => Promise.resolve({ kind: 'noData' as const }) } },
  });
  const t = performance.now();
  await informers.start(10 * 60_000);
  send({ kind: 'ready', startSec: (performance.now() - t) / 1000, scopes: informers.scopes().length, memory: await memoryFigures() });
  const cpu0 = process.cpuUsage();
  wc.controller.start();

  const idle = (): boolean => wc.controller.queue.len() === 0 && wc.controller.queue.processingCount() === 0;
  const applied = (): number => wc.webServices.list().filter((w) => (w.status?.inventory?.length ?? 0) > 0).length;
  const available = (): number => wc.webServices.list().filter((w) => w.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True')).length;
  await waitFor('all applied', () => applied() >= flags.services);
  send({ kind: 'applied', at: Date.now() });
  if (flags.mode === 'scratch') {
    await waitFor('all Available', () => available() >= flags.services);
    send({ kind: 'available', at: Date.now() });
  }
  await waitFor('queue idle', idle);
  const cpu = process.cpuUsage(cpu0);
  send({ kind: 'synced', at: Date.now(), writes: clients.counter.writes(), byVerb: writesByVerb(clients), cpuSec: (cpu.user + cpu.system) / 1e6, memory: await memoryFigures() });

  const steady = await steadyResync(wc, clients, idle);
  const memory = await memoryFigures();
  if (flags['heap-snapshot']) v8.writeHeapSnapshot(flags['heap-snapshot']);
  send({ kind: 'resynced', ...steady, memory, watches: watchesOf(clients), caches: cacheFigures(wc) });
  await wc.controller.stop({ drainTimeoutMs: 5_000 });
  await informers.stop();
  wc.dispose();
  process.disconnect?.();
}

await main();
