/**
 * Stream figures (issue 6): N concurrent WebSocket clients on loopback subscribed to one team.
 *   - latency from a status change written to the API server to its receipt by every client (p50, p99;
 *     target p99 < 100 ms), measured from just before the status PATCH is sent, so it includes the API
 *     server's write, the watch event, the informer, the hub and the socket, to the moment the client
 *     process reads the message's bytes from its socket (not when a page would have parsed it);
 *   - the same path in stages, per change: PATCH sent -> API server received -> response complete (the
 *     API server's audit log), -> the informer's event here, -> the hub, -> the hub's write loop over
 *     every socket returned, -> the last client read; the server's event-loop delay and GC pauses;
 *   - the CPU the server and the client process used in that phase (per receipt, and in cores), how busy
 *     the whole machine was by kind (/proc/stat) and its busiest processes, with the load average: the
 *     machine is shared, and a busy one shows;
 *   - server memory per connected client (RSS and heap, after GC, idle clients);
 *   - messages per second delivered to clients while status writes go as fast as the API server takes them.
 *
 *   node --expose-gc --import tsx bench/stream.ts [--clients 1000,5000,10000] [--updates 100] [--seconds 10] [--in-memory]
 *     [--clients-cpu-prof DIR]   (profile the server with node --cpu-prof, the client process with this)
 *     [--client raw|ws]          (raw, the default: see runClients; ws: the ws library as a client)
 *     [--pin]                    (server on CPU 0, clients on CPU 1, via taskset; the rest floats)
 *
 * `--clients` takes one count or a comma-separated list: the sizes run in turn against the same cluster
 * (a fresh hub, server and client process for each) and a summary line per size closes the output.
 * Without --in-memory it starts the local cluster (src/localcluster) and installs the paved CRDs. With
 * --in-memory the caches are in-process (no API server: the hub and socket path only). The clients run
 * in a child process (this file with --role clients) so that server memory is the server's alone.
 */
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import type { KubernetesObject } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { benchArgs, numberList } from './args.js';
import { FrameReader } from './ws-reader.js';

// --role, --url and --team are the client process's (runServer passes them).
const flags = benchArgs({ clients: '1000', updates: 100, seconds: 10, 'in-memory': false, 'clients-cpu-prof': '', client: 'raw', pin: false, role: 'server', url: '', team: 'bench' });
const wall = (): number => performance.timeOrigin + performance.now();

type ToParent =
  | { kind: 'ready'; connected: number; failed: number }
  | { kind: 'got'; marker: number }
  | { kind: 'counted'; messages: number }
  | { kind: 'latencies'; byMarker: Record<number, number[]>; cpuMicros: number };
type ToChild = { kind: 'cpu-mark' } | { kind: 'count-start' } | { kind: 'count-stop' } | { kind: 'report' } | { kind: 'exit' };

/** Busy and total CPU time of the whole machine, all cores (ms): other work on a shared machine shows here. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

/**
 * CPU time (clock ticks) of every process on the machine, by pid, with its name (Linux /proc; empty
 * elsewhere): in the latency phase, the busiest ones name "the rest of the machine".
 */
function processTicks(): Map<number, { name: string; ticks: number }> {
  const out = new Map<number, { name: string; ticks: number }>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).slice(0, 3).join(' ');
      out.set(Number(pid), { name: (cmd || stat.slice(stat.indexOf('(') + 1, close)).slice(0, 90), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

/** The machine's time by kind over a phase (/proc/stat, all cores), as shares; undefined off Linux. */
function kernelShares(): number[] | undefined {
  try {
    return (readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  } catch {
    return undefined;
  }
}

/** User + system CPU time of this process since `since` (µs). */
const cpuSince = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

/** `"m-` in a message: the marker the bench writes into the status (`message: "m-<n>"`). */
const MARKER = Buffer.from('"m-');

/** The marker number in a chunk of socket bytes, or undefined (digits read straight from the bytes). */
function markerIn(chunk: Buffer): number | undefined {
  const at = chunk.indexOf(MARKER);
  if (at < 0) return undefined;
  let n = 0;
  let i = at + MARKER.length;
  for (; i < chunk.length && chunk[i]! >= 0x30 && chunk[i]! <= 0x39; i++) n = n * 10 + chunk[i]! - 0x30;
  return i > at + MARKER.length ? n : undefined;
}

if (flags.role === 'clients') await runClients();
else await runServer();

/**
 * The client process: opens the sockets, timestamps every marker, counts messages. A receipt is timed
 * when its bytes are read from the socket, before anything parses them: one process reads thousands of
 * sockets one after another, so everything it does per message before the timestamp would delay the
 * receipts of the sockets read after it.
 *
 * `--client raw` (default): a plain HTTP upgrade, then the socket's bytes go through the bench's
 * FrameReader, which only finds frame boundaries to count text messages and answer pings (no decode, no
 * parse). A browser receives on its own machine; here the clients share the server's two cores, so any
 * client work beyond reading the bytes is CPU taken from the server. `--client ws`: the ws library
 * (what the figures before 2026-12-01 22:00 used), its data listener prepended to time the bytes first.
 */
async function runClients(): Promise<void> {
  const { url, team } = flags;
  const n = Number(flags.clients);
  const send = (m: ToParent): void => void process.send?.(m);
  const byMarker: Record<number, number[]> = {};
  let counting = false;
  let counted = 0;
  let connected = 0;
  let failed = 0;
  let cpuMark = process.cpuUsage();
  const sockets: Array<{ terminate(): void }> = [];
  const onMarker = (marker: number): void => {
    const t = wall();
    const list = (byMarker[marker] ??= []);
    list.push(t);
    if (list.length === n) send({ kind: 'got', marker });
  };
  const onData = (chunk: Buffer): void => {
    const marker = markerIn(chunk);
    if (marker !== undefined) onMarker(marker);
  };
  const onMessage = (): void => {
    if (counting) counted++;
  };
  const path = `/api/v1/stream?team=${team}`;
  const openWs = (): Promise<void> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, ['paved.v1'], { perMessageDeflate: false, skipUTF8Validation: true });
      sockets.push(ws);
      // The snapshot (it carries marker 0, from before the latency phase) arrives before the listener below.
      ws.once('message', () => {
        connected++;
        ws.on('message', onMessage);
        (ws as unknown as { _socket: Socket })._socket.prependListener('data', onData);
        resolve();
      });
      ws.on('error', () => {
        failed++;
        resolve();
      });
    });
  const { hostname, port } = new URL(url);
  // Every raw socket reads into this one buffer (net's `onread`): no Buffer and no stream 'data' event
  // per read. The callback handles the bytes before the next read, and the FrameReader copies what it keeps.
  const readBuffer = Buffer.alloc(64 * 1024);
  const openRaw = (): Promise<void> =>
    new Promise((resolve) => {
      const reader = new FrameReader();
      let handshake: Buffer | undefined = Buffer.alloc(0);
      let subscribed = false;
      const fail = (): void => {
        failed++;
        socket.destroy();
        resolve();
      };
      const onFrames = (bytes: Buffer): void => {
        // Marker 0 is the snapshot's, from before the latency phase.
        if (subscribed) onData(bytes);
        const { messages, pongs } = reader.read(bytes);
        for (const pong of pongs) socket.write(pong);
        if (messages === 0) return;
        if (subscribed) {
          if (counting) counted += messages;
          return;
        }
        subscribed = true;
        connected++;
        resolve();
      };
      const socket = connect({
        host: hostname,
        port: Number(port),
        onread: {
          buffer: readBuffer,
          callback: (nread: number, buf: Uint8Array): boolean => {
            const bytes = Buffer.from(buf.buffer, buf.byteOffset, nread);
            if (handshake === undefined) {
              onFrames(bytes);
              return true;
            }
            // The 101 answer, then frames (possibly in the same read).
            handshake = Buffer.concat([handshake, bytes]);
            const end = handshake.indexOf('\r\n\r\n');
            if (end < 0) return true;
            if (!handshake.subarray(0, 13).toString('latin1').startsWith('HTTP/1.1 101')) {
              fail();
              return false;
            }
            const rest = handshake.subarray(end + 4);
            handshake = undefined;
            if (rest.length > 0) onFrames(Buffer.from(rest));
            return true;
          },
        },
      });
      sockets.push({ terminate: () => socket.destroy() });
      socket.on('error', () => (subscribed ? undefined : fail()));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: paved.v1\r\n\r\n`,
      );
    });
  const open = flags.client === 'ws' ? openWs : openRaw;
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, open));
  send({ kind: 'ready', connected, failed });
  process.on('message', (m: ToChild) => {
    if (m.kind === 'cpu-mark') cpuMark = process.cpuUsage();
    else if (m.kind === 'count-start') {
      counted = 0;
      counting = true;
    } else if (m.kind === 'count-stop') {
      counting = false;
      send({ kind: 'counted', messages: counted });
    } else if (m.kind === 'report') send({ kind: 'latencies', byMarker, cpuMicros: cpuSince(cpuMark) });
    else if (m.kind === 'exit') {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A world the server reads and the bench writes to: the real API server, or in-process caches. */
interface World {
  sources: import('../src/server/sources.js').ServerSources;
  /** Writes a status with the marker; resolves when the write is accepted. */
  writeStatus(marker: number): Promise<void>;
  /**
   * The API server's own account of the status writes received in [fromMs, toMs] (its audit log), in
   * order: when each request arrived and when its response was complete (etcd write included).
   */
  apiServerWrites?(fromMs: number, toMs: number): Promise<Array<{ received: number; completed: number }>>;
  stop(): Promise<void>;
}

/** An RFC 3339 time with microseconds (the audit log's) as epoch ms with the fraction kept. */
function microTime(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return NaN;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

async function clusterWorld(): Promise<World> {
  const { startLocalCluster } = await import('../src/localcluster/cluster.js');
  const { installCrds, CRD_DIR } = await import('../src/install/crds.js');
  const { KubeClients, createInformer } = await import('../src/kube/index.js');
  const { KubeConfig, CoreV1Api } = await import('@kubernetes/client-node');
  const cluster = await startLocalCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  await installCrds(kc, [`${CRD_DIR}paved.dev_teams.yaml`, `${CRD_DIR}paved.dev_webservices.yaml`]);
  const admin = KubeClients.fromKubeConfig(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'bench', labels: { 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': 'bench' } } } });
  await admin.request({
    method: 'POST',
    path: '/apis/paved.dev/v1alpha1/teams',
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'Team', metadata: { name: 'bench' }, spec: { owners: { groups: ['bench'] }, costCenter: 'cc', quota: { tier: 'small' } } },
  });
  await admin.request({
    method: 'POST',
    path: '/apis/paved.dev/v1alpha1/namespaces/bench/webservices',
    body: { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name: 'shop', namespace: 'bench' }, spec: { image: 'ghcr.io/acme/shop:1.0.0' } },
  });
  const teams = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'paved.dev/v1alpha1', kind: 'Team' });
  const webServices = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'paved.dev/v1alpha1', kind: 'WebService' });
  const namespaces = createInformer<KubernetesObject>({ clients: admin, apiVersion: 'v1', kind: 'Namespace', labelSelector: 'paved.dev/team' });
  await Promise.all([teams.start(), namespaces.start(), webServices.start()]);
  await Promise.all([teams.waitForSync(), namespaces.waitForSync(), webServices.waitForSync()]);
  return {
    sources: { teams, namespaces, webServices },
    writeStatus: async (marker) => {
      await admin.request({
        method: 'PATCH',
        path: '/apis/paved.dev/v1alpha1/namespaces/bench/webservices/shop/status',
        contentType: 'application/merge-patch+json',
        body: { status: { observedGeneration: 1, rollout: { phase: 'Progressing', stableRevision: 'r1', stepIndex: 0, weight: 10, message: `m-${marker}` } } },
      });
    },
    apiServerWrites: async (fromMs, toMs) => {
      const { readFile } = await import('node:fs/promises');
      const out: Array<{ received: number; completed: number }> = [];
      for (const line of (await readFile(cluster.auditLog, 'utf8')).split('\n')) {
        if (!line.includes('"subresource":"status"') || !line.includes('"verb":"patch"')) continue;
        const e = JSON.parse(line) as { stage?: string; objectRef?: { resource?: string; name?: string }; requestReceivedTimestamp?: string; stageTimestamp?: string };
        if (e.stage !== 'ResponseComplete' || e.objectRef?.resource !== 'webservices' || e.objectRef.name !== 'shop') continue;
        const received = microTime(e.requestReceivedTimestamp ?? '');
        if (received >= fromMs && received <= toMs) out.push({ received, completed: microTime(e.stageTimestamp ?? '') });
      }
      return out.sort((a, b) => a.received - b.received);
    },
    stop: async () => {
      await Promise.all([teams.stop(), namespaces.stop(), webServices.stop()]);
      await cluster.stop();
    },
  };
}

async function memoryWorld(): Promise<World> {
  const { MemoryCache } = await import('../src/server/sources.js');
  const teams = new MemoryCache();
  const namespaces = new MemoryCache();
  const webServices = new MemoryCache();
  namespaces.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench', labels: { 'app.kubernetes.io/managed-by': 'paved', 'paved.dev/team': 'bench' } } });
  teams.upsert({ apiVersion: 'paved.dev/v1alpha1', kind: 'Team', metadata: { name: 'bench' }, spec: { owners: { groups: ['bench'] } } } as KubernetesObject);
  const ws = (marker: number): KubernetesObject =>
    ({
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'WebService',
      metadata: { name: 'shop', namespace: 'bench', generation: 1 },
      spec: { image: 'ghcr.io/acme/shop:1.0.0' },
      status: { observedGeneration: 1, rollout: { phase: 'Progressing', stableRevision: 'r1', stepIndex: 0, weight: 10, message: `m-${marker}` } },
    }) as KubernetesObject;
  webServices.upsert(ws(0));
  return {
    sources: { teams, namespaces, webServices },
    writeStatus: async (marker) => {
      // Like a watch event: delivered from the event loop, not inside the caller's stack.
      await new Promise((r) => setImmediate(r));
      webServices.upsert(ws(marker));
    },
    stop: async () => {},
  };
}

/** What one size measured, for the closing summary. */
interface Figures {
  clients: number;
  connected: number;
  p50: number;
  p99: number;
  hubP99: number;
  /** The server's write loop over every socket, per change (ms). */
  loopP50: number;
  loopP99: number;
  /** Client CPU per receipt in the latency phase (µs). */
  clientCpuMicros: number;
  rssKiB: number;
  heapKiB: number;
  /** Server CPU per receipt in the latency phase (µs). */
  serverCpuMicros: number;
  /** 1-minute load average before the clients connected and when the latency phase ended (the machine is shared). */
  loadBefore: number;
  load: number;
  /** Share of one core used in the latency phase by the server and by the clients; busy share of the whole machine. */
  serverCores: number;
  clientCores: number;
  machineBusy: number;
}

async function runServer(): Promise<void> {
  const sizes = numberList('clients', flags.clients);
  if (flags.client !== 'raw' && flags.client !== 'ws') throw new Error(`--client: raw or ws, got "${flags.client}"`);
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('--clients: positive integers, comma-separated (e.g. 1000,5000,10000)');
  const { updates, seconds } = flags;
  const inMemory = flags['in-memory'];
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.log('note: run with --expose-gc for stable memory figures');

  const world = inMemory ? await memoryWorld() : await clusterWorld();
  const results: Figures[] = [];
  try {
    for (const n of sizes) {
      console.log(`== ${n} clients`);
      results.push(await measure(world, { n, updates, seconds, inMemory, gc }));
    }
  } finally {
    await world.stop();
  }
  console.log(
    `summary (${flags.client} clients${flags.pin ? ', pinned: server CPU 0, clients CPU 1' : ''}: p50 / p99 status write -> receipt; p99 write -> hub; the server's write loop per change; CPU per receipt; server memory per client RSS / heap; ` +
      'latency phase: cores used by server / clients, machine busy of all cores; 1-min load before -> after):',
  );
  for (const f of results) {
    console.log(
      `  ${String(f.clients).padStart(6)} (${f.connected} connected): p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms; ` +
        `to hub p99 ${f.hubP99.toFixed(1)} ms; write loop p50 ${f.loopP50.toFixed(1)} / p99 ${f.loopP99.toFixed(1)} ms; ` +
        `CPU per receipt server ${f.serverCpuMicros.toFixed(1)} / clients ${f.clientCpuMicros.toFixed(1)} µs; ${f.rssKiB.toFixed(1)} KiB RSS / ${f.heapKiB.toFixed(1)} KiB heap; ` +
        `cores ${f.serverCores.toFixed(2)} / ${f.clientCores.toFixed(2)}, machine ${(100 * f.machineBusy).toFixed(0)}% busy; load ${f.loadBefore.toFixed(1)} -> ${f.load.toFixed(1)}`,
    );
  }
  process.exit(0);
}

async function measure(
  world: World,
  { n, updates, seconds, inMemory, gc }: { n: number; updates: number; seconds: number; inMemory: boolean; gc: (() => void) | undefined },
): Promise<Figures> {
  const { createApp } = await import('../src/server/app.js');
  const { StreamHub } = await import('../src/server/hub.js');
  const { startFeed } = await import('../src/server/feed.js');
  const { startServer } = await import('../src/server/serve.js');
  const logger = pino({ level: 'warn' });
  const hub = new StreamHub();
  const api = createApp({
    sources: world.sources,
    hub,
    writer: { create: notUsed, apply: notUsed, annotate: notUsed, delete: notUsed },
    auth: { kind: 'local' },
    roles: { adminGroup: 'paved:platform-admins', financeGroup: 'paved:finance' },
    logger,
    registry: new Registry(),
  });
  // Per marker: when the informer delivered its watch event, when its view reached the hub, and when the
  // hub's synchronous write to every socket returned. Splits the latency into API server + watch, feed,
  // the server's fan-out loop, and the rest (sockets, kernel, client process).
  const stamps: Stamps = { event: {}, published: {}, fannedOut: {} };
  const markerOf = (message: string | null | undefined): number | undefined => {
    const m = /^m-(\d+)$/.exec(message ?? '')?.[1];
    return m === undefined ? undefined : Number(m);
  };
  // Registered before the feed's own listener, so it runs first.
  const offEvent = world.sources.webServices.on('update', (obj) => {
    const marker = markerOf((obj as { status?: { rollout?: { message?: string } } }).status?.rollout?.message);
    if (marker !== undefined) stamps.event[marker] ??= wall();
  });
  const publish = hub.publish.bind(hub);
  hub.publish = (view) => {
    const marker = markerOf(view.reality.message);
    if (marker !== undefined) stamps.published[marker] ??= wall();
    publish(view);
    if (marker !== undefined) stamps.fannedOut[marker] ??= wall();
  };
  const feed = startFeed({ sources: world.sources, hub, logger });
  const server = await startServer({ api, authMode: 'local', port: 0, logger });

  const settle = async (): Promise<NodeJS.MemoryUsage> => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 200));
    }
    return process.memoryUsage();
  };
  const before = await settle();

  const child = fork(fileURLToPath(import.meta.url), ['--role', 'clients', '--url', server.url, '--clients', String(n), '--team', 'bench', '--client', flags.client], {
    // --clients-cpu-prof DIR: a CPU profile of the client process too (the server's: node --cpu-prof).
    execArgv: ['--import', 'tsx', ...(flags['clients-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['clients-cpu-prof']}`] : [])],
  });
  if (flags.pin) {
    // Server threads on CPU 0, client threads on CPU 1 (everything else floats): the clients stand in for
    // browsers on other machines, so they should not be scheduled onto the server's core mid fan-out.
    execFileSync('taskset', ['-apc', '0', String(process.pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-apc', '1', String(child.pid)], { stdio: 'ignore' });
  }
  try {
    return await drive({ child, hub, world, n, updates, seconds, inMemory, settle, before, stamps });
  } finally {
    if (child.exitCode === null) child.kill();
    offEvent();
    feed.stop();
    await server.close();
  }
}

interface DriveArgs {
  child: ReturnType<typeof fork>;
  hub: import('../src/server/hub.js').StreamHub;
  world: World;
  n: number;
  updates: number;
  seconds: number;
  inMemory: boolean;
  settle: () => Promise<NodeJS.MemoryUsage>;
  before: NodeJS.MemoryUsage;
  stamps: Stamps;
}

/** Wall-clock times (ms) per marker, taken in the server process. */
interface Stamps {
  event: Record<number, number>;
  published: Record<number, number>;
  fannedOut: Record<number, number>;
}

/** Connects the clients, then measures memory, latency and throughput. */
async function drive({ child, hub, world, n, updates, seconds, inMemory, settle, before, stamps }: DriveArgs): Promise<Figures> {
  const inbox: ToParent[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m: ToParent) => {
    inbox.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const next = async <K extends ToParent['kind']>(kind: K, pred: (m: Extract<ToParent, { kind: K }>) => boolean = () => true, timeoutMs = 120_000): Promise<Extract<ToParent, { kind: K }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = inbox.findIndex((m) => m.kind === kind && pred(m as Extract<ToParent, { kind: K }>));
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ToParent, { kind: K }>;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${kind}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 1_000).unref();
      });
    }
  };
  const tell = (m: ToChild): void => void child.send(m);

  const loadBefore = loadavg()[0] ?? NaN;
  const connectStarted = performance.now();
  const ready = await next('ready');
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const after = await settle();
  console.log(`clients: ${ready.connected} connected, ${ready.failed} failed, in ${connectSeconds.toFixed(1)} s (${inMemory ? 'in-memory caches' : 'real API server'})`);
  const rssKiB = (after.rss - before.rss) / ready.connected / 1024;
  const heapKiB = (after.heapUsed - before.heapUsed) / ready.connected / 1024;
  console.log(
    `server memory per connected client: ${rssKiB.toFixed(1)} KiB RSS, ${heapKiB.toFixed(1)} KiB heap ` +
      `(RSS ${(before.rss / 2 ** 20).toFixed(0)} -> ${(after.rss / 2 ** 20).toFixed(0)} MiB)`,
  );

  // Latency: one status change at a time; the next one after every client has the previous one.
  tell({ kind: 'cpu-mark' });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  // GC pauses of the server in the phase: a long one inside a write loop delays every socket after it.
  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push(e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const ticks0 = processTicks();
  const shares0 = kernelShares();
  const phaseStarted = performance.now();
  const t0: Record<number, number> = {};
  for (let marker = 1; marker <= updates; marker++) {
    t0[marker] = wall();
    await world.writeStatus(marker);
    await next('got', (m) => m.marker === marker, 30_000);
  }
  const serverCpu = cpuSince(cpu0);
  loopDelay.disable();
  gcObserver.disconnect();
  const phaseMicros = (performance.now() - phaseStarted) * 1000;
  const machine1 = machineCpu();
  const ticks1 = processTicks();
  const shares1 = kernelShares();
  const machineBusy = (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total);
  tell({ kind: 'report' });
  const { byMarker, cpuMicros: clientsCpu } = await next('latencies');
  const all: number[] = [];
  const toHub: number[] = [];
  // Per change: its last receipt, and the spread from its first to its last receipt (the fan-out).
  const lastOfChange: number[] = [];
  const spreadOfChange: number[] = [];
  // Per change, each stage of the path (ms): see the stamps in measure().
  const stage = { toApi: [] as number[], api: [] as number[], apiToEvent: [] as number[], feed: [] as number[], loop: [] as number[], afterLoop: [] as number[] };
  const auditWrites = (await world.apiServerWrites?.(t0[1] ?? 0, wall())) ?? [];
  for (const [key, times] of Object.entries(byMarker)) {
    const marker = Number(key);
    const start = t0[marker];
    const atHub = stamps.published[marker];
    const event = stamps.event[marker];
    const loopEnd = stamps.fannedOut[marker];
    if (start === undefined || times.length === 0) continue;
    const last = Math.max(...times);
    for (const t of times) all.push(t - start);
    if (atHub !== undefined) toHub.push(atHub - start);
    lastOfChange.push(last - start);
    spreadOfChange.push(last - Math.min(...times));
    // The audit log holds exactly this phase's writes, one per marker in order, unless a write is missing.
    const write = auditWrites.length === updates ? auditWrites[marker - 1] : undefined;
    if (write) {
      stage.toApi.push(write.received - start);
      stage.api.push(write.completed - write.received);
      if (event !== undefined) stage.apiToEvent.push(event - write.received);
    }
    if (event !== undefined && atHub !== undefined) stage.feed.push(atHub - event);
    if (atHub !== undefined && loopEnd !== undefined) {
      stage.loop.push(loopEnd - atHub);
      stage.afterLoop.push(last - loopEnd);
    }
  }
  all.sort((a, b) => a - b);
  toHub.sort((a, b) => a - b);
  lastOfChange.sort((a, b) => a - b);
  spreadOfChange.sort((a, b) => a - b);
  const dist = (xs: number[]): string => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted.length === 0 ? 'n/a' : `p50 ${percentile(sorted, 50).toFixed(1)} / p99 ${percentile(sorted, 99).toFixed(1)} / max ${(sorted.at(-1) as number).toFixed(1)}`;
  };
  console.log(
    `latency status write -> every client (${updates} changes x ${ready.connected} clients = ${all.length} receipts): ` +
      `p50 ${percentile(all, 50).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms, max ${all.at(-1)?.toFixed(1)} ms (target p99 < 100 ms)`,
  );
  console.log(
    `  of which write -> informer event -> hub: p50 ${percentile(toHub, 50).toFixed(1)} ms, p99 ${percentile(toHub, 99).toFixed(1)} ms; ` +
      `the rest is fan-out to ${ready.connected} sockets and the clients' own processing (same 2-core machine)`,
  );
  console.log(
    `  stages per change, ms (p50 / p99 / max over ${updates} changes): PATCH sent -> API server received ${dist(stage.toApi)}; ` +
      `API server received -> response complete (admission, etcd) ${dist(stage.api)}; API server received -> informer event here ${dist(stage.apiToEvent)}; ` +
      `informer event -> hub (feed projection) ${dist(stage.feed)}; hub -> write loop over every socket returned ${dist(stage.loop)}; ` +
      `loop returned -> last client read ${dist(stage.afterLoop)}`,
  );
  console.log(
    `  server event loop delay in the latency phase: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, ` +
      `max ${(loopDelay.max / 1e6).toFixed(1)} ms (the write loop itself blocks it); GC pauses: ${gcPauses.length}, ` +
      `${gcPauses.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${Math.max(0, ...gcPauses).toFixed(1)} ms`,
  );
  console.log(
    `  per change: last receipt p50 ${percentile(lastOfChange, 50).toFixed(1)} ms, slowest ${lastOfChange.at(-1)?.toFixed(1)} ms; ` +
      `first to last receipt p50 ${percentile(spreadOfChange, 50).toFixed(1)} ms, widest ${spreadOfChange.at(-1)?.toFixed(1)} ms ` +
      `(a p99 far above the typical change's last receipt comes from a few slow changes)`,
  );
  // CPU per receipt is steadier than latency on a shared machine: it does not count time spent waiting for a core.
  console.log(
    `  CPU per receipt in the latency phase (user + system): server ${(serverCpu / all.length).toFixed(1)} µs ` +
      `(informer, hub and sockets; the API server is another process), clients ${(clientsCpu / all.length).toFixed(1)} µs`,
  );
  console.log(
    `  cores used in the latency phase: server ${(serverCpu / phaseMicros).toFixed(2)}, clients ${(clientsCpu / phaseMicros).toFixed(2)}; ` +
      `machine ${(100 * machineBusy).toFixed(0)}% busy over ${cpus().length} cores (the rest of it: API server, etcd and anything else running); ` +
      `1-min load ${loadBefore.toFixed(1)} before the clients connected, ${(loadavg()[0] ?? NaN).toFixed(1)} now`,
  );
  if (shares0 && shares1) {
    // user nice system idle iowait irq softirq steal
    const d = shares1.map((v, i) => v - (shares0[i] ?? 0));
    const total = d.reduce((a, b) => a + b, 0) || 1;
    const pct = (i: number): string => `${((100 * (d[i] ?? 0)) / total).toFixed(0)}%`;
    console.log(
      `  machine time in the latency phase (/proc/stat): user ${pct(0)}, nice ${pct(1)}, system ${pct(2)}, softirq ${pct(6)}, irq ${pct(5)}, steal ${pct(7)}, idle ${pct(3)}, iowait ${pct(4)}`,
    );
  }
  const busiest = [...ticks1]
    .map(([pid, { name, ticks }]) => ({ pid, name, ms: (ticks - (ticks0.get(pid)?.ticks ?? 0)) * 10 }))
    .filter((p) => p.ms > 0)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 8);
  if (busiest.length > 0) {
    const phaseMs = phaseMicros / 1000;
    console.log(
      `  busiest processes in the latency phase (share of one core; this server is pid ${process.pid}, the clients pid ${child.pid}): ` +
        busiest.map((p) => `${p.pid} ${p.name} ${(p.ms / phaseMs).toFixed(2)}`).join('; '),
    );
  }
  const figures: Figures = {
    serverCpuMicros: serverCpu / all.length,
    clients: n,
    connected: ready.connected,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    hubP99: percentile(toHub, 99),
    loopP50: percentile([...stage.loop].sort((a, b) => a - b), 50),
    loopP99: percentile([...stage.loop].sort((a, b) => a - b), 99),
    clientCpuMicros: clientsCpu / all.length,
    rssKiB,
    heapKiB,
    loadBefore,
    load: loadavg()[0] ?? NaN,
    serverCores: serverCpu / phaseMicros,
    clientCores: clientsCpu / phaseMicros,
    machineBusy,
  };

  // Throughput: status writes as fast as they are accepted (8 in flight) for `seconds`.
  tell({ kind: 'count-start' });
  let writes = 0;
  let marker = 1_000_000;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        await world.writeStatus(++marker);
        writes++;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 1_000));
  tell({ kind: 'count-stop' });
  const { messages } = await next('counted');
  console.log(
    `sustained: ${(writes / seconds).toFixed(0)} status writes/s -> ${(messages / seconds).toFixed(0)} messages/s delivered ` +
      `(${messages} messages to ${ready.connected} clients in ${seconds} s + 1 s drain); slow consumers dropped: ${hub.stats().slowConsumersDropped}`,
  );

  tell({ kind: 'exit' });
  await new Promise((r) => child.once('exit', r));
  return figures;
}

async function notUsed(): Promise<never> {
  throw new Error('the bench makes no writes through the API');
}
