import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { cronVerificationJob, verifiesLabel } from '../../../lib/rollout/cronVerification.ts';
import {
  allImages,
  failureOf,
  invoke,
  namespace,
  newImage,
  newShop,
  oldImage,
  repository,
  type Shop,
  untouched,
} from './shop.ts';

/** Every Job the rollout created, as it sent them (verification Jobs are deleted after passing). */
function createdJobs(shop: Shop): V1Job[] {
  const created: V1Job[] = [];
  const create = shop.cluster.createJob.bind(shop.cluster);
  shop.cluster.createJob = async (ns: string, body: V1Job) => {
    created.push(body);
    return create(ns, body);
  };
  return created;
}

const verifyJob = 'm2-cron-verify-r1';
const jobsLeft = (shop: Shop) => shop.cluster.objects('jobs', namespace).map((j) => j.metadata?.name);

describe('the cron verification', () => {
  it('runs one cron:run from m2-cron with the new image after cron is patched, then deletes it', async () => {
    // Prepare
    const shop = newShop();
    const created = createdJobs(shop);

    // Act
    const result = await invoke(shop, { id: 'r1' });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(created.map((j) => j.metadata?.name)).toEqual([verifyJob]);
    expect(created[0]?.metadata?.labels).toEqual({ app: 'm2-cron', [verifiesLabel]: 'm2-cron' });
    expect(created[0]?.spec?.template.spec?.containers.map((c) => c.image)).toEqual([newImage]);
    expect(jobsLeft(shop)).toEqual([]);
    expect(allImages(shop).cron).toEqual([newImage]);
  });

  it('rolls the release back when cron:run fails, with the verification’s log tail in the report', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.setImageBehaviour(
      newImage,
      {
        run: 'fail',
        log: ['Ran jobs by schedule.', 'Class "Magento\\Cron\\Observer\\ProcessCronQueueObserver" not found'],
      },
      verifyJob,
    );

    // Act
    const result = await invoke(shop, { id: 'r1' });

    // Assess
    expect(result.outcome).toBe('failed');
    const message = failureOf(shop, 'r1') ?? '';
    expect(message).toContain(
      `shop-a/cronjob/m2-cron: verification job shop-a/${verifyJob} (cron:run with ${newImage}) failed`,
    );
    expect(message).toContain('ProcessCronQueueObserver" not found');
    expect(message).toContain('Rolled back to the recorded images: shop-a/cronjob/m2-cron,');
    expect(allImages(shop)).toEqual(untouched);
    // The failed run is kept for its logs.
    expect(jobsLeft(shop)).toEqual([verifyJob]);
  });

  it('deletes a verification whose pod cannot pull its image, and rolls back', async () => {
    // Prepare
    const shop = newShop();
    shop.cluster.setImageBehaviour(newImage, { run: 'pull-error' }, verifyJob);

    // Act
    const result = await invoke(shop, { id: 'r1' });

    // Assess
    expect(result.outcome).toBe('failed');
    expect(failureOf(shop, 'r1')).toMatch(
      new RegExp(
        `pod ${verifyJob}-\\S+: (ErrImagePull|ImagePullBackOff).*job shop-a/${verifyJob} and its pod deleted`,
        's',
      ),
    );
    expect(jobsLeft(shop)).toEqual([]);
    expect(allImages(shop).cron).toEqual([oldImage]);
  });

  it('runs none with "verifyCron": false', async () => {
    // Prepare
    const shop = newShop();
    const created = createdJobs(shop);

    // Act
    const result = await invoke(shop, {
      id: 'r1',
      params: { namespace, imageTag: '2.4.8', migrate: 'never', verifyCron: false },
    });

    // Assess
    expect(result.outcome).toBe('succeeded');
    expect(created).toEqual([]);
  });

  it('builds the Job kubectl create job --from=cronjob would, plus the label naming the CronJob', () => {
    // Prepare
    const cron = {
      metadata: { name: 'm2-cron' },
      spec: {
        schedule: '* * * * *',
        jobTemplate: {
          metadata: { labels: { 'app.kubernetes.io/component': 'cron' }, annotations: { a: 'b' } },
          spec: {
            backoffLimit: 0,
            template: {
              spec: { containers: [{ name: 'cron', image: `${repository}:2.4.7`, args: ['cron:run'] }] },
            },
          },
        },
      },
    };

    // Act
    const job = cronVerificationJob(cron, 'r9', repository, newImage);

    // Assess
    expect(job.metadata).toEqual({
      name: 'm2-cron-verify-r9',
      labels: { 'app.kubernetes.io/component': 'cron', [verifiesLabel]: 'm2-cron' },
      annotations: { a: 'b', 'cronjob.kubernetes.io/instantiate': 'manual' },
    });
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.template.spec?.containers).toEqual([
      { name: 'cron', image: newImage, args: ['cron:run'] },
    ]);
  });
});
