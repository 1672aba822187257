import type { V1CronJob, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  configMapData,
  find,
  render,
  shopOverlays,
  type Workload,
  workloads,
} from '../../helpers/manifests.ts';

const overlay = shopOverlays[0];
const objects = () => render(overlay).objects;
const cron = () => find<V1CronJob>(objects(), 'CronJob', 'm2-cron');
const migrate = () => find<V1CronJob>(objects(), 'CronJob', 'm2-migrate');

const pool = 'm2-eks-pipeline.io/node-pool';

/** The values a pod's required node affinity demands (In) or excludes (NotIn) for the node-pool label. */
function poolRequirement(spec: V1PodSpec): { operator: string; values: string[] } | undefined {
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const expressions = terms.flatMap((t) => t.matchExpressions ?? []).filter((e) => e.key === pool);
  if (terms.length !== 1 || expressions.length !== 1) return undefined;
  const [only] = expressions;
  return only === undefined ? undefined : { operator: only.operator, values: only.values ?? [] };
}

const tolerates = (spec: V1PodSpec, value: string): boolean =>
  (spec.tolerations ?? []).some(
    (t) => t.effect === 'NoSchedule' && ((t.key === pool && t.value === value) || t.operator === 'Exists'),
  );

describe('m2-cron', () => {
  it('runs bin/magento cron:run every minute, one run at a time', () => {
    // Act
    const spec = cron().spec;

    // Assess
    expect(spec?.schedule).toBe('* * * * *');
    expect(spec?.concurrencyPolicy).toBe('Forbid');
    expect(spec?.startingDeadlineSeconds).toBeGreaterThanOrEqual(10);
    expect(spec?.startingDeadlineSeconds).toBeLessThan(60);
    expect(spec?.successfulJobsHistoryLimit).toBeLessThanOrEqual(3);
    expect(spec?.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    expect(spec?.suspend ?? false).toBe(false);
    expect(spec?.jobTemplate.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(spec?.jobTemplate.spec?.template.spec?.containers[0]?.command).toEqual([
      'php',
      'bin/magento',
      'cron:run',
    ]);
  });
});

describe('m2-migrate (the rollout function’s migration Job template)', () => {
  it('is a suspended CronJob whose Job is bounded in retries, time and lifetime', () => {
    // Act
    const job = migrate().spec?.jobTemplate.spec;

    // Assess
    expect(migrate().spec?.suspend).toBe(true);
    expect(job?.backoffLimit).toBe(0);
    expect(job?.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job?.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(job?.template.spec?.restartPolicy).toBe('Never');
    expect(job?.template.metadata?.labels?.['app.kubernetes.io/component']).toBe('migration');
  });

  it('runs migrate.sh, which upgrades only when setup:db:status or app:config:status asks for it', () => {
    // Prepare
    const script = configMapData(objects(), 'm2-scripts')['migrate.sh'] ?? '';

    // Act
    const command = migrate().spec?.jobTemplate.spec?.template.spec?.containers[0]?.command ?? [];

    // Assess
    expect(command.join(' ')).toContain('migrate.sh');
    expect(script).toContain('bin/magento setup:db:status');
    expect(script).toContain('setup:upgrade --keep-generated');
  });

  it('publishes the blue/green setting of m2-env as an annotation the rollout can read', () => {
    // Prepare
    const env = configMapData(objects(), 'm2-env');

    // Act
    const published = migrate().metadata?.annotations?.['m2-eks-pipeline.io/blue-green-enabled'];

    // Assess
    expect(env.MAGENTO_DEPLOYMENT_BLUE_GREEN_ENABLED).toBe('1');
    expect(published).toBe(env.MAGENTO_DEPLOYMENT_BLUE_GREEN_ENABLED);
  });
});

describe('m2-env', () => {
  it.each([
    ['MAGENTO_QUEUE_CONSUMERS_WAIT_FOR_MESSAGES', '0'],
    ['MAGENTO_CRON_CONSUMERS_RUNNER_CRON_RUN', '0'],
    ['MAGE_MODE', 'production'],
  ])('sets %s=%s', (key, value) => {
    expect(configMapData(objects(), 'm2-env')[key]).toBe(value);
  });

  it('holds no secret-looking keys', () => {
    // Act
    const keys = Object.keys(configMapData(objects(), 'm2-env'));

    // Assess
    expect(keys.filter((k) => /PASSWORD|SECRET|CRYPT|KEY$|TOKEN/.test(k))).toEqual([]);
  });
});

describe('node pools', () => {
  const all = () => workloads(objects());
  const webPods = () => all().filter((w) => w.component === 'web');
  const batchPods = () => all().filter((w) => w.component !== 'web');

  it('keeps web pods off the batch pool', () => {
    for (const w of webPods()) {
      expect(poolRequirement(w.spec), w.name).toEqual({ operator: 'NotIn', values: ['workers'] });
      expect(tolerates(w.spec, 'workers'), w.name).toBe(false);
    }
  });

  it.each(['consumer', 'cron', 'migration'])(
    'puts %s pods on the batch pool only, never with web',
    (component) => {
      // Act
      const pods: Workload[] = batchPods().filter((w) => w.component === component);

      // Assess
      expect(pods.length).toBeGreaterThan(0);
      for (const w of pods) {
        const requirement = poolRequirement(w.spec);
        expect(requirement, w.name).toEqual({ operator: 'In', values: ['workers'] });
        // Disjoint with web: every pool a batch pod may use is a pool web pods exclude.
        for (const web of webPods()) {
          const excluded = poolRequirement(web.spec)?.values ?? [];
          expect(
            requirement?.values.every((v) => excluded.includes(v)),
            `${w.name} vs ${web.name}`,
          ).toBe(true);
        }
        expect(tolerates(w.spec, 'workers'), w.name).toBe(true);
      }
    },
  );
});
