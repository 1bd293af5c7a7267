import { defineConfig } from 'vitest/config';

// Three projects: fast unit tests of pure logic, the portal's unit tests (web/test), and integration
// tests (`*.int.test.ts`) that run against one shared real cluster and Prometheus started once per run
// by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'node_modules/**'],
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The portal's own unit tests (web/): pure logic of the page, in Node.
        test: {
          name: 'web',
          include: ['web/test/**/*.test.ts'],
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // One retry: a test against a live cluster can lose a race with the API server's own controllers
          // on a loaded machine. test/support/flaky-reporter.ts names every test that needed it.
          retry: 1,
          // Integration tests wait on the API server, not on the CPU: run files side by side.
          maxWorkers: 4,
          // Unit tests first (fast feedback), then the integration files side by side.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
