import type { BenchCommand } from '../args.ts';

/** `npm run bench:traffic`'s command line (the shape of bench/lib/args.ts's other benches). */
export const trafficBench: BenchCommand<'runs' | 'rate' | 'only'> = {
  script: 'bench:traffic',
  summary:
    'storefront requests through the shop Service on real nodes during releases, a pod deletion and a node drain, the same releases through the rollout function, and messages through a consumer scaled down or killed mid-batch (needs M2_REAL_NODES=1; starts what is not running)',
  options: {
    runs: {
      description: 'runs of every scenario (medians are reported)',
      default: 3,
      min: 1,
      max: 20,
      env: 'BENCH_RUNS',
    },
    // ≤ 50 keeps the load modest on the 2 shared cores (php-fpm, nginx and the generator share them).
    rate: { description: 'storefront requests per second', default: 20, min: 1, max: 50 },
    only: {
      description: 'run only the scenario at this position of the table (1 = the first; 0 = all)',
      default: 0,
      min: 0,
      max: 11,
    },
  },
};
