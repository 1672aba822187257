import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Only with `--coverage`: statement and branch coverage of the shipped code (lib/ and functions/).
    coverage: {
      provider: 'v8',
      include: ['lib/**', 'functions/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Starts the embedded environment (moto, Kubernetes) unless it already runs.
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Tests share one moto and one apiserver; files run one at a time to keep them honest on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
