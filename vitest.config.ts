import { execFileSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// Tests call `kubectl` (kustomize, apply, rollout status): the one build-k8s.sh builds with the
// control plane's version (npm test's pretest builds it), not whatever the machine has. Until it is
// built, the directory is empty and PATH finds the system's kubectl.
const k8sBin = execFileSync('bash', ['scripts/local/build-k8s.sh', '--print-bin-dir'], {
  encoding: 'utf8',
}).trim();
const env = { PATH: `${k8sBin}${delimiter}${process.env.PATH ?? ''}` };
// Real kubelet nodes (scripts/local/nodes.ts) are opt-in: their tests run only with M2_REAL_NODES=1.
const realNodes = process.env.M2_REAL_NODES === '1';
// Real KEDA (scripts/local/keda.ts) is opt-in too: its tests run only with M2_KEDA=1.
const keda = process.env.M2_KEDA === '1';

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
          env,
          // Vitest's 5 s default is a timed assertion on a shared 2-core machine: a 1 s test of the
          // fake cluster took 5.3 s beside another suite. A hang still fails, just later.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            ...(realNodes ? [] : ['test/integration/nodes/**']),
            ...(keda ? [] : ['test/integration/scaling/keda*.test.ts']),
          ],
          env,
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
