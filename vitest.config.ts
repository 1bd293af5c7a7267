import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests of pure logic, and integration tests (`*.int.test.ts`) that run
// against one shared real cluster and Prometheus started once per run by the global setup.
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
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Integration tests wait on the API server, not on the CPU: run files side by side.
          maxWorkers: 4,
          // Unit tests first (fast feedback), then the integration files side by side.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
