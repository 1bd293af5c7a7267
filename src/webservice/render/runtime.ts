/**
 * Runtime conventions: what paved assumes about a service written for each runtime (default port,
 * health endpoints, user id of the usual base images, environment that makes the runtime behave in a
 * container with a read-only root filesystem and CPU/memory limits). `generic` assumes only a TCP port.
 */
import type { V1EnvVar } from '@kubernetes/client-node';
import type { Runtime } from './spec.js';

/** How a runtime is run. */
export interface RuntimeConvention {
  port: number;
  /** HTTP health paths; absent for `generic` (TCP probes). */
  livenessPath?: string;
  readinessPath?: string;
  /** Slow starters get a startup probe so liveness does not kill them while they boot. */
  startupProbe: boolean;
  /** Non-zero UID/GID of the conventional base image's unprivileged user. */
  uid: number;
  env: readonly V1EnvVar[];
}

const resourceEnv = (name: string, resource: string): V1EnvVar => ({
  name,
  valueFrom: { resourceFieldRef: { containerName: 'app', resource, divisor: '1' } },
});

/** The conventions, by runtime. */
export const RUNTIMES: Readonly<Record<Runtime, RuntimeConvention>> = Object.freeze({
  node: {
    port: 3000,
    livenessPath: '/healthz',
    readinessPath: '/readyz',
    startupProbe: false,
    uid: 1000, // the `node` user of the official images
    env: [{ name: 'NODE_ENV', value: 'production' }],
  },
  python: {
    port: 8000,
    livenessPath: '/healthz',
    readinessPath: '/readyz',
    startupProbe: false,
    uid: 10001,
    env: [
      { name: 'PYTHONUNBUFFERED', value: '1' },
      { name: 'PYTHONDONTWRITEBYTECODE', value: '1' }, // the root filesystem is read-only
    ],
  },
  go: {
    port: 8080,
    livenessPath: '/healthz',
    readinessPath: '/readyz',
    startupProbe: false,
    uid: 65532, // distroless `nonroot`
    // The Go runtime does not read cgroup limits (before 1.25): tell it.
    env: [resourceEnv('GOMAXPROCS', 'limits.cpu'), resourceEnv('GOMEMLIMIT', 'limits.memory')],
  },
  java: {
    port: 8080,
    livenessPath: '/actuator/health/liveness',
    readinessPath: '/actuator/health/readiness',
    startupProbe: true,
    uid: 10001,
    env: [
      {
        name: 'JAVA_TOOL_OPTIONS',
        value: '-XX:MaxRAMPercentage=75.0 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp',
      },
    ],
  },
  generic: {
    port: 8080,
    startupProbe: false,
    uid: 10001,
    env: [],
  },
});
