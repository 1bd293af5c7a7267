/**
 * Representative WebServices (golden files, integration tests) and an arbitrary of valid specs (property
 * tests). The arbitrary follows crds/paved.dev_webservices.yaml: every spec it makes is one the API server
 * accepts.
 */
import fc from 'fast-check';
import type { Capabilities, RenderContext, WebService, WebServiceSpec } from '../../src/webservice/index.js';
import { DEFAULT_PLATFORM } from '../../src/webservice/index.js';

export const FULL: Capabilities = { gatewayApi: true, prometheusOperator: true };
export const BARE: Capabilities = { gatewayApi: false, prometheusOperator: false };

export function webService(name: string, namespace: string, spec: WebServiceSpec, uid = `uid-${name}`): WebService {
  return { apiVersion: 'paved.dev/v1alpha1', kind: 'WebService', metadata: { name, namespace, uid, generation: 1 }, spec };
}

export function contextFor(capabilities: Capabilities, extra: Partial<RenderContext> = {}): RenderContext {
  return { capabilities, platform: DEFAULT_PLATFORM, team: 'team-a', ...extra };
}

/** Golden cases: one per runtime and tier, public and private, with and without dependencies. */
export const GOLDEN_CASES: ReadonlyArray<{ file: string; ws: WebService; ctx: RenderContext }> = [
  {
    file: 'node-managed-public-gateway-deps',
    ws: webService('shop', 'team-a', {
      image: 'ghcr.io/acme/shop:1.4.2',
      runtime: 'node',
      networking: { visibility: 'public', host: 'shop.example.com', dependencies: [{ service: 'catalog' }, { service: 'payments', namespace: 'team-b' }] },
    }),
    ctx: contextFor(FULL, { dependents: [{ service: 'frontend', namespace: 'team-a' }] }),
  },
  {
    file: 'python-managed-private',
    ws: webService('catalog', 'team-a', { image: 'registry.example.com/acme/catalog:2.0.0', runtime: 'python', tier: 'medium' }),
    ctx: contextFor(FULL),
  },
  {
    file: 'go-configured-public-ingress-deps',
    ws: webService('payments', 'team-b', {
      image: 'ghcr.io/acme/payments@sha256:' + 'a'.repeat(64),
      runtime: 'go',
      tier: 'large',
      port: 9090,
      scaling: { minReplicas: 3, maxReplicas: 12, targetCPUUtilization: 60 },
      networking: { visibility: 'public', host: 'pay.example.com', paths: ['/api', '/webhooks'], tls: { enabled: true, secretName: 'pay-cert' }, dependencies: [{ service: 'ledger' }] },
      observability: { metrics: { port: 9100, path: '/metrics' } },
      overrides: {
        healthChecks: { livenessPath: '/live', readinessPath: '/ready', initialDelaySeconds: 5 },
        env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'DB_PASSWORD', secretKeyRef: { name: 'payments-db', key: 'password' } }],
        annotations: { 'example.com/owner': 'payments' },
        resources: { limits: { cpu: '3', memory: '6Gi' } },
        autoscaling: { targetMemoryUtilization: 80, metrics: [{ name: 'http_requests_per_second', targetAverageValue: '100' }] },
      },
    }),
    ctx: contextFor(BARE, { team: 'team-b' }),
  },
  {
    file: 'java-configured-private-tracing-config',
    ws: webService('ledger', 'team-b', {
      image: 'ghcr.io/acme/ledger:7.1',
      runtime: 'java',
      config: { SPRING_PROFILES_ACTIVE: 'prod', LEDGER_CURRENCY: 'EUR' },
      observability: { tracing: true },
      scaling: { minReplicas: 2, maxReplicas: 2 },
      overrides: { serviceAccountToken: true, args: ['--server.shutdown=graceful'] },
    }),
    ctx: contextFor(FULL, { team: 'team-b', dependents: [{ service: 'payments', namespace: 'team-b' }] }),
  },
  {
    file: 'generic-advanced-public-patches-extras',
    ws: webService('legacy', 'team-c', {
      image: 'registry.example.com/legacy/app:2024.06',
      networking: { visibility: 'public', host: 'legacy.example.com', tls: { enabled: false } },
      observability: { metrics: { enabled: false } },
      advanced: {
        patches: [
          { target: { kind: 'Deployment' }, mergePatch: { spec: { template: { spec: { containers: [{ name: 'app', workingDir: '/srv' }] } } } } },
          { target: { kind: 'Service', name: 'legacy' }, jsonPatch: [{ op: 'add', path: '/metadata/annotations', value: { 'example.com/lb': 'internal' } }] },
        ],
        extraManifests: [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'legacy-extra' }, data: { 'settings.ini': '[main]\nmode=legacy\n' } },
        ],
      },
    }),
    ctx: contextFor(FULL, { team: 'team-c' }),
  },
  {
    file: 'node-managed-private-bare-cluster',
    ws: webService('worker', 'team-a', { image: 'ghcr.io/acme/worker:0.9.0', runtime: 'node', tier: 'small' }),
    ctx: contextFor(BARE),
  },
];

const dnsLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/);
const hostArb = fc
  .array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), { minLength: 1, maxLength: 3 })
  .map((labels) => `${labels.join('.')}.example.com`);
const imageArb = fc
  .tuple(
    fc.constantFrom('ghcr.io/acme', 'registry.example.com/team', 'localhost:5000/x'),
    dnsLabel,
    fc.oneof(fc.stringMatching(/^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}$/), fc.constant('v1'), fc.stringMatching(/^[a-f0-9]{64}$/).map((d) => `@sha256:${d}`)),
  )
  .map(([repo, name, tag]) => (tag.startsWith('@') ? `${repo}/${name}${tag}` : `${repo}/${name}:${tag}`));
const cpuArb = fc.constantFrom('50m', '100m', '250m', '500m', '1', '2');
const memArb = fc.constantFrom('64Mi', '128Mi', '256Mi', '512Mi', '1Gi', '2Gi');

/** A valid WebService spec, per the CRD schema and its CEL rules. */
export const specArb: fc.Arbitrary<WebServiceSpec> = fc
  .record(
    {
      image: imageArb,
      runtime: fc.constantFrom('node', 'python', 'go', 'java', 'generic' as const),
      port: fc.integer({ min: 1024, max: 65535 }),
      tier: fc.constantFrom('small', 'medium', 'large' as const),
      config: fc.dictionary(envName, fc.string({ maxLength: 20 }), { maxKeys: 4 }),
      scaling: fc
        .tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 10, max: 95 }))
        .map(([min, extra, cpu]) => ({ minReplicas: min, maxReplicas: min + extra, targetCPUUtilization: cpu })),
      networking: fc.oneof(
        fc.record({ visibility: fc.constant('private' as const) }),
        fc.record(
          {
            visibility: fc.constant('public' as const),
            host: hostArb,
            paths: fc.uniqueArray(fc.array(fc.stringMatching(/^[a-z0-9._-]{1,6}$/).filter((seg) => seg !== '.' && seg !== '..'), { maxLength: 3 }).map((segs) => `/${segs.join('/')}`), { minLength: 1, maxLength: 3 }),
            tls: fc.record({ enabled: fc.boolean() }),
            dependencies: fc.uniqueArray(fc.record({ service: dnsLabel, namespace: dnsLabel }, { requiredKeys: ['service'] }), {
              maxLength: 4,
              selector: (d) => `${d.namespace ?? ''}/${d.service}`,
            }),
          },
          { requiredKeys: ['visibility', 'host'] },
        ),
      ),
      observability: fc.record({
        metrics: fc.record({ enabled: fc.boolean(), port: fc.integer({ min: 1024, max: 65535 }), path: fc.constantFrom('/metrics', '/stats') }, { requiredKeys: [] }),
        tracing: fc.boolean(),
      }, { requiredKeys: [] }),
      overrides: fc.record(
        {
          healthChecks: fc.record({ livenessPath: fc.constantFrom('/live', '/healthz'), readinessPath: fc.constantFrom('/ready'), periodSeconds: fc.integer({ min: 1, max: 60 }) }, { requiredKeys: [] }),
          env: fc.uniqueArray(fc.record({ name: envName, value: fc.string({ maxLength: 10 }) }), { maxLength: 3, selector: (e) => e.name }),
          annotations: fc.dictionary(fc.stringMatching(/^example\.com\/[a-z]{1,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
          resources: fc.oneof(
            fc.record({ limits: fc.record({ cpu: cpuArb, memory: memArb }, { requiredKeys: [] }) }),
            fc.record({ requests: fc.record({ cpu: cpuArb, memory: memArb }, { requiredKeys: [] }) }),
          ),
          autoscaling: fc.record({ targetMemoryUtilization: fc.integer({ min: 10, max: 95 }) }),
          serviceAccountToken: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      advanced: fc.record(
        {
          patches: fc.constant([{ target: { kind: 'Deployment' }, mergePatch: { metadata: { annotations: { 'example.com/patched': 'yes' } } } }]),
          extraManifests: fc.constant([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra-settings' }, data: { a: 'b' } }]),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['image'] },
  )
  .map((s) => s as WebServiceSpec);
