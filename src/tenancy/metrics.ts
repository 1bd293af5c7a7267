/**
 * Tenancy metrics. `paved_orphan_namespaces` is computed at scrape time from the caches (namespaces
 * labelled managed-by paved whose Team no longer exists), so it is always current and costs nothing
 * between scrapes. Several controllers in one process (tests) each register a source.
 */
import { Gauge } from 'prom-client';
import { metricsRegistry } from '../kube/index.js';

type OrphanSource = () => number;
const sources = new Set<OrphanSource>();

/** The gauge (registered once per process on paved's registry). */
export const orphanNamespaces = new Gauge({
  name: 'paved_orphan_namespaces',
  help: 'Namespaces managed by paved whose Team no longer exists (deleted after PAVED_ORPHAN_GRACE_SECONDS).',
  registers: [metricsRegistry],
  collect() {
    let n = 0;
    for (const source of sources) n += source();
    this.set(n);
  },
});

/** Adds a source of the orphan count; returns its removal. */
export function registerOrphanSource(source: OrphanSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}
