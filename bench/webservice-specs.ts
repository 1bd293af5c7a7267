/**
 * The WebService specs of the WebService benchmarks (bench/webservice.ts, bench/cache-memory.ts): a
 * mix of runtimes, public services with a host, private ones that depend on the one before.
 */
import type { WebService } from '../src/webservice/render/index.js';

/** The spec of the i-th benchmark service. */
export function benchSpec(i: number): WebService['spec'] {
  return {
    image: `ghcr.io/acme/svc-${i % 50}:1.${i % 7}.0`,
    runtime: (['node', 'python', 'go', 'java', 'generic'] as const)[i % 5],
    scaling: { minReplicas: 1, maxReplicas: 3 },
    networking: i % 2 === 0 ? { visibility: 'public', host: `svc-${i}.example.com` } : { visibility: 'private', dependencies: [{ service: `svc-${i - 1}` }] },
  };
}
