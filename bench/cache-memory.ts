/**
 * Heap of the informer caches per WebService, without a cluster: N WebServices rendered as the controller
 * renders them, each child dressed as the API server returns it (uid, resourceVersion, managedFields, a
 * Deployment status) plus one ReplicaSet per Deployment, parsed from JSON like a watch event and passed
 * through a cache transform. Compares the transform of the caches (cacheTransformFor) with stripping
 * managedFields only (stripForCache), each in its own child process so one heap does not hide another.
 * A figure for issue 18's memory target (10,000 WebServices); the real RSS comes from bench/webservice.ts.
 *
 *   node --import tsx bench/cache-memory.ts [--services 10000]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { cacheTransformFor } from '../src/kube/informer-factory.js';
import { stripForCache } from '../src/kube/informer.js';
import { renderDesiredPodTemplate, renderWebService } from '../src/webservice/render/index.js';
import { contextFor, webService, FULL } from '../test/webservice/fixtures.js';
import { benchArgs } from './args.js';
import { benchSpec } from './webservice-specs.js';

const { services, transform } = benchArgs({ services: 10000, transform: '' });

/** The wire form of a rendered object: what a list or watch event carries. */
function onTheWire(o: KubernetesObject & { status?: unknown }, ns: string): string {
  const now = new Date().toISOString();
  const live = structuredClone(o) as Omit<KubernetesObject, 'metadata'> & { metadata?: Record<string, unknown>; status?: unknown };
  live.metadata = {
    ...live.metadata,
    namespace: ns,
    uid: randomUUID(),
    resourceVersion: String(1e6 + Math.floor(Math.random() * 1e6)),
    generation: 1,
    creationTimestamp: now,
    managedFields: [{ manager: 'paved-webservice', operation: 'Apply', apiVersion: o.apiVersion ?? 'v1', time: now, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': {} } }],
  };
  if (o.kind === 'Deployment' || o.kind === 'ReplicaSet') {
    live.status = {
      observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
      conditions: [{ type: 'Available', status: 'True', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }],
    };
  }
  return JSON.stringify(live);
}

/** One measurement (run in a child process): heap after GC of N WebServices' cached objects. */
function measure(kind: 'cacheTransformFor' | 'stripForCache'): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const ctx = contextFor(FULL, { team: 'bench' });
  const cache = new Map<string, KubernetesObject>();
  const bytes = new Map<string, number>();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < services; i++) {
    const ns = `ns-${i % 1000}`;
    const ws = webService(`svc-${i}`, ns, benchSpec(i));
    const children = renderWebService(ws, { ...ctx, rollout: { stableTemplate: renderDesiredPodTemplate(ws, ctx).template } }).objects as KubernetesObject[];
    const replicaSets = children.filter((o) => o.kind === 'Deployment').map((d) => ({ ...d, kind: 'ReplicaSet', metadata: { ...d.metadata, name: `${d.metadata?.name}-7d4b9c` } }));
    for (const o of [ws as KubernetesObject, ...children, ...replicaSets]) {
      const kindOf = o.kind ?? '';
      const parsed = JSON.parse(onTheWire(o, ns)) as KubernetesObject;
      const cached = kind === 'cacheTransformFor' ? cacheTransformFor(kindOf)(parsed) : stripForCache(parsed);
      cache.set(`${kindOf}/${ns}/${o.metadata?.name}`, cached);
      bytes.set(kindOf, (bytes.get(kindOf) ?? 0) + JSON.stringify(cached).length);
    }
  }
  gc();
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  process.stdout.write(JSON.stringify({ objects: cache.size, heap, bytes: Object.fromEntries(bytes) }));
}

if (transform) {
  measure(transform as 'cacheTransformFor' | 'stripForCache');
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (t: string) =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--services', String(services), '--transform', t], { encoding: 'utf8', maxBuffer: 1 << 24 })) as {
      objects: number;
      heap: number;
      bytes: Record<string, number>;
    };
  const kib = (b: number) => (b / 1024).toFixed(1);
  out(`${services} WebServices, cached objects as the API server sends them (one ReplicaSet per Deployment)`);
  for (const t of ['stripForCache', 'cacheTransformFor']) {
    const r = run(t);
    out(`  ${t.padEnd(18)} ${r.objects} objects, heap ${(r.heap / 2 ** 20).toFixed(1)} MiB = ${kib(r.heap / services)} KiB per WebService`);
    out(`  ${''.padEnd(18)} JSON bytes per WebService by kind: ${Object.entries(r.bytes).map(([k, v]) => `${k} ${Math.round(v / services)}`).join(', ')}`);
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}
